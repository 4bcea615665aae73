"""The certificate as a PDF (WeasyPrint, from the same HTML/CSS template as the page) and its QR code (segno)."""

from __future__ import annotations

from pathlib import Path

import segno
from flask import current_app, render_template

from lms.certificates.models import Certificate, CertificateVersion

STYLESHEET = "css/certificates.css"


def qr_data_uri(url: str) -> str:
    """The URL as a QR code, an SVG data URI (medium error correction, so a scuffed print still scans)."""
    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=2, dark="#1b2430"))


def render_pdf(certificate: Certificate, version: CertificateVersion, url: str) -> bytes:
    """Render one version of a certificate to PDF bytes."""
    from weasyprint import CSS, HTML, default_url_fetcher

    def data_only(target: str, *args: object, **kwargs: object) -> dict[str, object]:
        # The certificate embeds everything it shows; refuse any fetch so rendering never touches a network.
        if not target.startswith("data:"):
            raise ValueError(f"certificate PDFs load nothing from outside: {target[:60]}")
        return default_url_fetcher(target, *args, **kwargs)  # type: ignore[no-any-return]

    html = render_template(
        "certificates/pdf.html", certificate=certificate, version=version, url=url, qr=qr_data_uri(url)
    )
    stylesheet = Path(current_app.static_folder or "") / STYLESHEET
    document = HTML(string=html, url_fetcher=data_only)
    return bytes(document.write_pdf(stylesheets=[CSS(filename=str(stylesheet))]))

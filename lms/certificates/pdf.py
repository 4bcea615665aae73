"""The certificate as a PDF (WeasyPrint, from the same HTML/CSS template as the page) and its QR code (segno).

A version's PDF is rendered the first time it is asked for, then stored with the version and served as stored.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import segno
import sqlalchemy as sa
from flask import current_app, render_template

from lms.certificates.lookup import verification_url
from lms.certificates.models import Certificate, CertificateVersion
from lms.clock import now_utc
from lms.extensions import db

STYLESHEET = "css/certificates.css"


@lru_cache(maxsize=1024)
def qr_data_uri(url: str) -> str:
    """The URL as a QR code, an SVG data URI (medium error correction, so a scuffed print still scans).

    A URL's code never changes and choosing its best mask costs milliseconds, so each process keeps the codes it
    drew last (about 3 kB each)."""
    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=2, dark="#1b2430"))


def render_pdf(certificate: Certificate, version: CertificateVersion, url: str) -> bytes:
    """Render one version of a certificate to PDF bytes."""
    from weasyprint import CSS, HTML
    from weasyprint.urls import URLFetcher

    # The certificate embeds everything it shows (the QR code is a data: URI): no fetch may touch a network.
    data_only = URLFetcher(allowed_protocols={"data"})

    html = render_template(
        "certificates/pdf.html", certificate=certificate, version=version, url=url, qr=qr_data_uri(url)
    )
    stylesheet = Path(current_app.static_folder or "") / STYLESHEET
    document = HTML(string=html, url_fetcher=data_only)
    return bytes(document.write_pdf(stylesheets=[CSS(filename=str(stylesheet))]))


def certificate_pdf(certificate: Certificate) -> bytes:
    """The current version's PDF: rendered the first time it is asked for, then kept and served as stored."""
    version = certificate.current
    stored = db.session.execute(
        sa.select(CertificateVersion.pdf).where(CertificateVersion.id == version.id)
    ).scalar_one_or_none()
    if stored is not None:
        return stored
    rendered = render_pdf(certificate, version, verification_url(certificate))
    # Only the first renderer stores its copy; a concurrent one serves what was stored first.
    db.session.execute(
        sa.update(CertificateVersion)
        .where(CertificateVersion.id == version.id, CertificateVersion.pdf.is_(None))
        .values(pdf=rendered, pdf_generated_at=now_utc())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return db.session.execute(
        sa.select(CertificateVersion.pdf).where(CertificateVersion.id == version.id)
    ).scalar_one()

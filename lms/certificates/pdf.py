"""The certificate as a PDF (WeasyPrint, from the same HTML/CSS template as the page) and its QR code (segno).

The PDF is one landscape page on the configured paper (A4 or US Letter), with the badge, the issuer's signature
block, and the holder's name set in a size that fits its length. Its fonts are the ones the app ships in
lms/static/fonts (Latin, Greek, Cyrillic, Arabic and Chinese; see the README there), so a certificate looks the same
on every server. Rendering fetches nothing but those fonts, the badge and data: URIs: never the network.

A version's PDF is rendered by a background job (lms.jobs) enqueued in the transaction that issues, reissues or
renews it, then stored with the version and served as stored: a download never renders. Before the job has run,
the download page says the PDF is being prepared. A periodic job renders any current version still without one
(versions made before this rule, or whose job died).
"""

from __future__ import annotations

import base64
import logging
import mimetypes
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import segno
import sqlalchemy as sa
from flask import current_app, render_template

from lms.certificates.lookup import verification_url
from lms.certificates.models import Certificate, CertificateVersion
from lms.clock import now_utc
from lms.extensions import db

log = logging.getLogger(__name__)

STYLESHEET = "css/certificates.css"


@lru_cache(maxsize=1024)
def qr_data_uri(url: str) -> str:
    """The URL as a QR code, an SVG data URI (medium error correction, so a scuffed print still scans).

    A URL's code never changes and choosing its best mask costs milliseconds, so each process keeps the codes it
    drew last (about 3 kB each)."""
    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=2, dark="#1b2430"))


BADGE = "img/certificate-badge.svg"
FONTS = "fonts"
NAME_FONTS = ("DejaVuSerif-Bold.woff2", "NotoNaskhArabic-Bold.woff2")  # the name's stack, less the CJK face
SIGNATURE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/svg+xml", "image/webp"}


@dataclass(frozen=True)
class Paper:
    """A landscape page: its CSS size, and its width and height in millimetres."""

    css_size: str
    width_mm: float
    height_mm: float


PAPERS = {"A4": Paper("A4 landscape", 297.0, 210.0), "Letter": Paper("letter landscape", 279.4, 215.9)}
PAGE_MARGIN_MM = 12.0
FRAME_PADDING_MM = 16.0
NAME_MAX_PT, NAME_MIN_PT = 30.0, 14.0
_PT_PER_MM = 72 / 25.4


def page_stylesheet(paper: Paper) -> str:
    """The page size, and the certificate's height filling it, for one paper."""
    height = paper.height_mm - 2 * PAGE_MARGIN_MM
    return (
        f"@page {{ size: {paper.css_size}; margin: {PAGE_MARGIN_MM}mm; }}\n"
        f".certificate-document .certificate {{ height: {height:.1f}mm; }}\n"
    )


@lru_cache(maxsize=1)
def _name_metrics(fonts_folder: str) -> list[tuple[dict[int, str], dict[str, tuple[int, int]], int]]:
    """Each name font's character map, advance widths and units per em (read once per process)."""
    from fontTools.ttLib import TTFont

    metrics = []
    for name in NAME_FONTS:
        font = TTFont(str(Path(fonts_folder) / name))
        metrics.append((font.getBestCmap(), font["hmtx"].metrics, font["head"].unitsPerEm))
    return metrics


def _advance_em(
    character: str, metrics: list[tuple[dict[int, str], dict[str, tuple[int, int]], int]]
) -> float:
    for cmap, widths, units in metrics:
        glyph = cmap.get(ord(character))
        if glyph is not None:
            return widths[glyph][0] / units
    return 1.0  # a Chinese character, or one no font here has: a full em is the widest it can be


def name_font_size(name: str, paper: Paper, fonts_folder: str) -> float:
    """The largest size, within 14-30 pt, at which the name fits on one line of the certificate's width (below
    14 pt it wraps rather than shrink further)."""
    width_pt = (paper.width_mm - 2 * PAGE_MARGIN_MM - 2 * FRAME_PADDING_MM - 4) * _PT_PER_MM
    ems = sum(_advance_em(character, _name_metrics(fonts_folder)) for character in name) * 1.05
    if ems <= 0:
        return NAME_MAX_PT
    return round(max(NAME_MIN_PT, min(NAME_MAX_PT, width_pt / ems)), 1)


def signature_image_uri(path: str) -> str | None:
    """The configured signature image as a data URI; None (a line to sign on instead) when there is none or it
    cannot be read, which is logged."""
    if not path:
        return None
    mimetype = mimetypes.guess_type(path)[0]
    if mimetype not in SIGNATURE_TYPES:
        log.error("LMS_CERTIFICATE_SIGNATURE_IMAGE %s is not a PNG, JPEG, GIF, SVG or WebP image", path)
        return None
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        log.error("LMS_CERTIFICATE_SIGNATURE_IMAGE cannot be read: %s", error)
        return None
    return f"data:{mimetype};base64,{base64.b64encode(data).decode()}"


def _static_files_only(static_folder: Path) -> Any:
    """A URL fetcher for data: URIs and the files of our fonts and images folders, and nothing else."""
    from weasyprint.urls import URLFetcher

    allowed = [(static_folder / FONTS).resolve(), (static_folder / "img").resolve()]

    class StaticFilesOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("file:"):
                from urllib.request import url2pathname

                path = Path(url2pathname(url.removeprefix("file:").split("?")[0])).resolve()
                if not any(path.is_relative_to(folder) for folder in allowed):
                    raise ValueError(f"The certificate may not load {url}")
            elif not url.startswith("data:"):
                raise ValueError(f"The certificate may not load {url}")
            return super().fetch(url, headers)

    return StaticFilesOnly(allowed_protocols={"data", "file"})


def render_pdf(certificate: Certificate, version: CertificateVersion, url: str) -> bytes:
    """Render one version of a certificate to PDF bytes."""
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    config = current_app.config
    static = Path(current_app.static_folder or "")
    paper = PAPERS[str(config["CERTIFICATE_PAPER"])]
    html = render_template(
        "certificates/pdf.html",
        certificate=certificate,
        version=version,
        url=url,
        qr=qr_data_uri(url),
        badge_src=(static / BADGE).resolve().as_uri(),
        signature_image=signature_image_uri(str(config["CERTIFICATE_SIGNATURE_IMAGE"])),
        name_size=name_font_size(version.holder_name, paper, str(static / FONTS)),
    )
    fetcher = _static_files_only(static)
    fonts = FontConfiguration()  # our @font-face faces, for this document only
    stylesheets = [
        CSS(filename=str(static / STYLESHEET), url_fetcher=fetcher, font_config=fonts),
        CSS(string=page_stylesheet(paper), url_fetcher=fetcher, font_config=fonts),
    ]
    document = HTML(string=html, url_fetcher=fetcher)
    return bytes(document.write_pdf(stylesheets=stylesheets, font_config=fonts))


RENDER_JOB = "certificates.render_pdf"
MISSING_PER_RUN = 20  # the periodic catch-up renders at most this many per run (a few seconds each at most)


def certificate_pdf(certificate: Certificate) -> bytes | None:
    """The current version's stored PDF, or None while its job has not rendered it yet. Never renders."""
    return db.session.execute(
        sa.select(CertificateVersion.pdf).where(CertificateVersion.id == certificate.current.id)
    ).scalar_one_or_none()


def enqueue_pdf(event: Any) -> None:
    """In the transaction of an issue, reissue or renewal (CertificateIssued, CertificateReissued): render the
    new current version's PDF by a job, so the request that made it does not wait for WeasyPrint."""
    from lms import jobs

    version_id = db.session.execute(
        sa.select(CertificateVersion.id)
        .join(Certificate, Certificate.id == CertificateVersion.certificate_id)
        .where(
            Certificate.id == event.certificate_id, CertificateVersion.number == Certificate.version_number
        )
    ).scalar_one_or_none()
    if version_id is not None:
        jobs.enqueue(RENDER_JOB, {"version_id": version_id})


def render_and_store(payload: dict[str, Any]) -> None:
    """The job: render one version's PDF and store it, unless it is stored already (a job run twice renders
    once; a concurrent renderer's copy, stored first, stays)."""
    version = db.session.get(CertificateVersion, payload["version_id"])
    if (
        version is None
        or db.session.execute(
            sa.select(CertificateVersion.pdf.is_not(None)).where(CertificateVersion.id == version.id)
        ).scalar_one()
    ):
        return
    certificate = version.certificate
    rendered = render_pdf(certificate, version, verification_url(certificate))
    db.session.execute(
        sa.update(CertificateVersion)
        .where(CertificateVersion.id == version.id, CertificateVersion.pdf.is_(None))
        .values(pdf=rendered, pdf_generated_at=now_utc())
        .execution_options(synchronize_session=False)
    )


def render_missing_pdfs() -> int:
    """The periodic catch-up: render the current versions (of certificates not revoked) that have no PDF yet."""
    missing = db.session.execute(
        sa.select(CertificateVersion.id)
        .join(Certificate, Certificate.id == CertificateVersion.certificate_id)
        .where(
            CertificateVersion.number == Certificate.version_number,
            CertificateVersion.pdf.is_(None),
            Certificate.revoked_at.is_(None),
        )
        .order_by(CertificateVersion.id)
        .limit(MISSING_PER_RUN)
    ).scalars()
    rendered = 0
    for version_id in list(missing):
        render_and_store({"version_id": version_id})
        db.session.commit()
        rendered += 1
    return rendered

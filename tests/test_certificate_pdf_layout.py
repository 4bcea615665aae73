"""The PDF certificate looks like one: one page on A4 and on US Letter, the badge, the issuer's signature block, and
the holder's name set to fit, whatever its length or script, in fonts the app ships (no glyph missing, no font
borrowed from the server).

To look at the pages: CERTIFICATE_PREVIEW=/some/folder makes these tests leave their PDFs there
(then `pdftoppm -png -r 60 file.pdf out`).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from lms import PROJECT_ROOT
from lms.certificates import operations
from lms.certificates.pdf import NAME_MAX_PT, NAME_MIN_PT, PAPERS, name_font_size, render_pdf
from lms.extensions import db
from tests.fixtures.courses.samples import make_track

FONTS = PROJECT_ROOT / "lms" / "static" / "fonts"
MM = 72 / 25.4

NAMES = {
    "latin-60": "Maximiliana Theodora Wilhelmina Alexandrine von Hohenzollern",
    "chinese": "欧阳修远",
    "arabic": "فاطمة الزهراء بنت عبد الرحمن",
    "cyrillic": "Александра Владимировна Константинопольская",
    "greek": "Αικατερίνη Παπαδοπούλου",
}
# The fonts each part of the certificate is set in (lms/static/css/certificates.css), as the PDF names them.
SHIPPED_FONTS = {"DejaVuSerif", "DejaVuSerif-Bold", "DejaVuSerif-Italic", "DejaVuSans", "DejaVuSans-Bold"}
SHIPPED_FONTS |= {"DejaVuSansMono", "NotoNaskhArabic", "NotoNaskhArabic-Bold", "NotoSansCJKsc-Bold"}


@pytest.fixture
def certificate_named(admin, make_user):
    count = iter(range(1, 1000))

    def issue(name: str):
        track = make_track(slug=f"pdf-look-{next(count)}")
        track.completion = {"modules": "all", "quizzes": []}
        track.validity_months = 24
        db.session.commit()
        return operations.issue_certificate(make_user(full_name=name), track, admin, "PDF look")

    return issue


def _render(certificate, label: str) -> bytes:
    pdf = render_pdf(certificate, certificate.current, operations.verification_url(certificate))
    preview = os.environ.get("CERTIFICATE_PREVIEW")
    if preview:
        Path(preview).mkdir(parents=True, exist_ok=True)
        (Path(preview) / f"{label}.pdf").write_bytes(pdf)
    return pdf


def _pages(pdf: bytes) -> list[tuple[float, float, str]]:
    """Each page's width and height in millimetres, and its text."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        pages = []
        for page in document:
            text = page.get_textpage().get_text_range()
            pages.append((page.get_width() / MM, page.get_height() / MM, text))
        return pages
    finally:
        document.close()


def _badge_blue_on_top(pdf: bytes) -> bool:
    """Whether the badge's blue (#1f4e79) fills a patch at the top centre of the page, where the badge goes."""
    import pypdfium2

    document = pypdfium2.PdfDocument(pdf)
    try:
        image = document[0].render(scale=1).to_pil().convert("RGB")
    finally:
        document.close()
    width, height = image.size
    top = image.crop((width // 3, 0, 2 * width // 3, height // 4))
    pixels = top.tobytes()
    blue = sum(
        1
        for at in range(0, len(pixels), 3)
        if abs(pixels[at] - 31) + abs(pixels[at + 1] - 78) + abs(pixels[at + 2] - 121) < 30
    )
    return blue > 200


def _font_names(pdf: bytes) -> set[str]:
    """The fonts the PDF embeds, without their subset prefix (ABCDEF+)."""
    return {name.decode() for name in re.findall(rb"/BaseFont\s*/(?:[A-Z]{6}\+)?([^\s/<>\[\]]+)", pdf)}


def _covered(text: str) -> set[str]:
    """The characters of the text that some shipped font has a glyph for."""
    from fontTools.ttLib import TTFont

    found: set[str] = set()
    for path in FONTS.glob("*.woff2"):
        cmap = TTFont(str(path)).getBestCmap()
        found |= {character for character in text if ord(character) in cmap}
    return found


@pytest.mark.parametrize("paper", ["A4", "Letter"])
def test_one_page_on_either_paper_with_badge_signature_and_the_whole_certificate(
    app, paper, certificate_named
):
    app.config["CERTIFICATE_PAPER"] = paper
    app.config["CERTIFICATE_SIGNATORY_NAME"] = "Dr. Ada Lovelace"
    app.config["CERTIFICATE_SIGNATORY_TITLE"] = "Director of Certification"
    certificate = certificate_named("Stella Student")
    pdf = _render(certificate, f"paper-{paper}")

    ((width, height, text),) = _pages(pdf)
    expected = PAPERS[paper]
    assert (round(width, 1), round(height, 1)) == (expected.width_mm, expected.height_mm)
    flat = " ".join(text.split())
    for part in (
        "Stella Student",
        certificate.current.track_title,
        certificate.display_code,
        "Dr. Ada Lovelace",
    ):
        assert part in flat, part
    assert "Director of Certification, " + app.config["ORGANIZATION_NAME"] in flat
    assert _badge_blue_on_top(pdf)


@pytest.mark.parametrize("label", list(NAMES))
def test_long_and_non_latin_names_fit_in_shipped_fonts_with_no_glyph_missing(app, label, certificate_named):
    name = NAMES[label]
    assert len(NAMES["latin-60"]) == 60
    certificate = certificate_named(name)
    for paper in PAPERS:
        app.config["CERTIFICATE_PAPER"] = paper
        pdf = _render(certificate, f"name-{label}-{paper}")
        ((_, _, text),) = _pages(pdf)
        if (
            label == "arabic"
        ):  # extracted in visual order, ligatures aside: compare the letters, not their order
            letters = {c for c in name if not c.isspace()}
            assert letters <= set(text) | {"\u0640"}, letters - set(text)
        else:
            assert name in " ".join(text.split()), (label, paper)
        assert _font_names(pdf) <= SHIPPED_FONTS, _font_names(pdf) - SHIPPED_FONTS
    assert _covered(name) == set(name)  # every character has a glyph in a font we ship: no tofu


def test_the_name_size_shrinks_with_its_length_within_bounds(app):
    fonts = str(FONTS)
    a4 = PAPERS["A4"]
    assert name_font_size("Ana Li", a4, fonts) == NAME_MAX_PT
    long_size = name_font_size(NAMES["latin-60"], a4, fonts)
    assert NAME_MIN_PT < long_size < NAME_MAX_PT
    assert name_font_size(NAMES["latin-60"], PAPERS["Letter"], fonts) < long_size  # Letter is narrower
    assert name_font_size("W" * 200, a4, fonts) == NAME_MIN_PT  # past that it wraps


def test_a_signature_image_is_drawn_and_a_missing_one_leaves_a_line(app, certificate_named, tmp_path):
    from lms.certificates.pdf import signature_image_uri

    signature = PROJECT_ROOT / "lms" / "static" / "img" / "certificate-badge.png"
    app.config["CERTIFICATE_SIGNATURE_IMAGE"] = str(signature)
    assert signature_image_uri(str(signature)).startswith("data:image/png;base64,")
    with_image = _render(certificate_named("Stella Student"), "signature-image")
    assert len(_pages(with_image)) == 1

    assert signature_image_uri(str(tmp_path / "missing.png")) is None
    assert signature_image_uri(str(tmp_path / "notes.txt")) is None
    app.config["CERTIFICATE_SIGNATURE_IMAGE"] = str(tmp_path / "missing.png")
    assert len(_pages(_render(certificate_named("Stella Student"), "signature-line"))) == 1


def test_the_paper_setting_is_checked(monkeypatch, tmp_path):
    from lms.config import load_config

    monkeypatch.setenv("LMS_CERTIFICATE_PAPER", "letter")
    assert load_config(tmp_path)["CERTIFICATE_PAPER"] == "Letter"
    monkeypatch.setenv("LMS_CERTIFICATE_PAPER", "A3")
    with pytest.raises(RuntimeError, match="LMS_CERTIFICATE_PAPER"):
        load_config(tmp_path)

"""Baked badges: the certificate badge as PNG and SVG with the signed Open Badges 3.0 credential inside, read back
as a backpack would (our own PNG chunk reader and Pillow; ElementTree for the SVG) and checked by Digital Bazaar's
verifier; where they are served, to whom, and what a revoked certificate gets.

The PNG beside the SVG badge is drawn from it once (WeasyPrint to PDF, pdfium to pixels); after changing the SVG,
draw it again with: .venv/bin/python -m tests.test_credentials_baking
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from lms import PROJECT_ROOT
from lms.certificates import operations
from lms.certificates.baking import (
    PNG_KEYWORD,
    SVG_NAMESPACE,
    BakingError,
    bake_png,
    bake_svg,
    read_png_credential,
    read_svg_credential,
)
from lms.certificates.credentials import credential_json
from tests import test_credentials_verifier as verified
from tests.test_credentials_verifier import run_verifier

# Fixtures shared with the verifier's tests: a live server at BASE_URL, a keyring of the test's own.
app_config, certificate_for, live_port, verifier = (
    verified.app_config,
    verified.certificate_for,
    verified.live_port,
    verified.verifier,
)

STATIC = PROJECT_ROOT / "lms" / "static" / "img"
BADGE_SIZE = 512


def render_badge_png() -> bytes:
    """The SVG badge drawn at 512 x 512 pixels on a transparent background."""
    import pypdfium2
    from weasyprint import HTML

    svg = (STATIC / "certificate-badge.svg").as_uri()
    html = (
        f"<style>@page {{ size: {BADGE_SIZE}px {BADGE_SIZE}px; margin: 0 }} body {{ margin: 0 }}</style>"
        f'<img src="{svg}" style="display: block; width: {BADGE_SIZE}px; height: {BADGE_SIZE}px">'
    )
    document = pypdfium2.PdfDocument(HTML(string=html).write_pdf())
    try:
        page = document[0]
        scale = BADGE_SIZE / page.get_width()
        image = page.render(scale=scale, fill_color=(255, 255, 255, 0)).to_pil()
    finally:
        document.close()
    out = io.BytesIO()
    image.convert("RGBA").save(out, format="PNG", optimize=True)
    return out.getvalue()


def test_the_png_badge_is_the_svg_badge_drawn():
    kept = Image.open(STATIC / "certificate-badge.png").convert("RGBA")
    fresh = Image.open(io.BytesIO(render_badge_png())).convert("RGBA")
    assert kept.size == fresh.size == (BADGE_SIZE, BADGE_SIZE)
    difference = ImageStat.Stat(ImageChops.difference(kept, fresh)).mean
    assert max(difference) < 2, "draw the PNG again: .venv/bin/python -m tests.test_credentials_baking"


# --- the baking rules ----------------------------------------------------------------------------------------------


CREDENTIAL = json.dumps({"name": "Ünïcode ]]> and “quotes”", "proof": {"proofValue": "z3Ab"}}, indent=2)


def _png_chunk_types(png: bytes) -> list[bytes]:
    types, at = [], 8
    while at < len(png):
        length = int.from_bytes(png[at : at + 4], "big")
        types.append(png[at + 4 : at + 8])
        at += 12 + length
    return types


def test_a_baked_png_carries_the_credential_in_one_uncompressed_itxt_chunk_pillow_reads():
    plain = (STATIC / "certificate-badge.png").read_bytes()
    baked = bake_png(plain, CREDENTIAL)

    assert read_png_credential(plain) is None
    assert read_png_credential(baked) == CREDENTIAL
    types = _png_chunk_types(baked)
    assert types[:2] == [b"IHDR", b"iTXt"] and types[-1] == b"IEND"
    assert types.count(b"iTXt") == 1
    keyword_and_flags = baked[baked.index(b"iTXt") + 4 :][: len(PNG_KEYWORD) + 3]
    assert keyword_and_flags == PNG_KEYWORD.encode() + b"\0\0\0"  # compression flag and method both 0

    with Image.open(io.BytesIO(baked)) as image:  # an independent reader agrees, and the picture is unchanged
        image.load()
        assert image.text[PNG_KEYWORD] == CREDENTIAL
        with Image.open(io.BytesIO(plain)) as original:
            assert image.tobytes() == original.tobytes()
    with pytest.raises(BakingError):
        bake_png(baked, CREDENTIAL)  # never two credentials in one image
    with pytest.raises(BakingError):
        bake_png(b"GIF89a", CREDENTIAL)


def test_a_baked_svg_carries_the_credential_in_cdata_right_after_the_svg_tag():
    plain = (STATIC / "certificate-badge.svg").read_text()
    baked = bake_svg(plain, CREDENTIAL)

    assert read_svg_credential(plain) is None
    assert read_svg_credential(baked) == CREDENTIAL
    assert f'xmlns:openbadges="{SVG_NAMESPACE}"' in baked.split(">", 1)[0]
    assert baked.split(">", 1)[1].startswith("<openbadges:credential><![CDATA[")
    assert baked.count("<openbadges:credential") == 1 and " verify=" not in baked
    with pytest.raises(BakingError):
        bake_svg(baked, CREDENTIAL)


# --- served, and verified ----------------------------------------------------------------------------------------


def test_the_baked_badges_hold_a_credential_the_independent_verifier_accepts(
    client, verifier, live_server, certificate_for
):
    certificate = certificate_for()
    png = client.get(f"/verify/{certificate.display_code}/badge.png")
    svg = client.get(f"/verify/{certificate.display_code}/badge.svg")
    assert png.status_code == svg.status_code == 200
    assert png.mimetype == "image/png" and svg.mimetype == "image/svg+xml"

    from_png = json.loads(read_png_credential(png.data) or "")
    from_svg = json.loads(read_svg_credential(svg.get_data(as_text=True)) or "")
    assert from_png == from_svg == json.loads(credential_json(certificate))
    results = run_verifier(verifier, live_server, stdin=[from_png, from_svg])
    assert [r["verified"] for r in results] == [True, True], [r["errors"] for r in results]
    assert all(not s["set"] for r in results for s in r["statuses"].values())


def test_a_revoked_certificate_has_no_badge_to_hand_out(client, certificate_for, admin):
    certificate = certificate_for()
    operations.revoke_certificate(certificate, admin, "Issued in error")
    for suffix in ("png", "svg"):
        response = client.get(f"/verify/{certificate.display_code}/badge.{suffix}")
        assert response.status_code == 410
        assert PNG_KEYWORD.encode() not in response.data and b"openbadges:credential" not in response.data


def test_unknown_and_untidy_codes(client, certificate_for):
    certificate = certificate_for()
    assert client.get("/verify/7KQ2-M9XD-4TRW-H/badge.png").status_code == 404
    assert client.get("/verify/not-a-code/badge.svg").status_code == 404
    untidy = certificate.display_code.lower()
    response = client.get(f"/verify/{untidy}/badge.png")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/verify/{certificate.display_code}/badge.png")


if __name__ == "__main__":
    Path(STATIC / "certificate-badge.png").write_bytes(render_badge_png())

"""Baked badges: the certificate badge as PNG and SVG with its signed Open Badges 3.0 credential inside.

The rules are the Open Badges 3.0 specification's "Baked Badge" section, for a credential with an embedded proof:

- PNG: one uncompressed `iTXt` chunk with the keyword `openbadgecredential` whose text is the credential's JSON.
  We put it right after `IHDR`, so a reader that stops at the first such chunk reads as little as it can.
- SVG: an `xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"` attribute on the `<svg>` tag and, directly
  after that tag, one `<openbadges:credential>` element with the credential's JSON in CDATA (no `verify`
  attribute: that is for VC-JWT).

The badge is the same picture for every certificate (lms/static/img/certificate-badge.svg); its PNG is drawn once
from the SVG and kept beside it (certificate-badge.png; tests/test_credentials_baking.py checks that the two agree
and says how to draw it again). Baking is a copy with one chunk or element added, so no rasterizer runs while
serving; the credential itself is signed once per certificate version and kept (lms.certificates.credentials).
"""

from __future__ import annotations

import re
import struct
import zlib
from functools import lru_cache
from pathlib import Path
from xml.etree import ElementTree

from flask import current_app

from lms.certificates.credentials import credential_json
from lms.certificates.models import Certificate

PNG_KEYWORD = "openbadgecredential"
SVG_NAMESPACE = "https://purl.imsglobal.org/ob/v3p0"
BADGE_SVG = "img/certificate-badge.svg"
BADGE_PNG = "img/certificate-badge.png"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SVG_START_TAG = re.compile(r"<svg\b[^>]*>")


class BakingError(ValueError):
    """The image cannot carry a credential: not a PNG or SVG we can read, or it already carries one."""


# --- PNG -----------------------------------------------------------------------------------------------------------


def _png_chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """The PNG's chunks as (type, data), each CRC checked."""
    if not png.startswith(PNG_SIGNATURE):
        raise BakingError("Not a PNG file.")
    chunks = []
    at = len(PNG_SIGNATURE)
    while at < len(png):
        if at + 12 > len(png):
            raise BakingError("A PNG chunk is cut short.")
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind = png[at + 4 : at + 8]
        data = png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : at + 12 + length])
        if len(data) != length or zlib.crc32(kind + data) != crc:
            raise BakingError("A PNG chunk is damaged.")
        chunks.append((kind, data))
        at += 12 + length
        if kind == b"IEND":
            break
    return chunks


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _itxt_keyword_and_text(data: bytes) -> tuple[str, str] | None:
    """An iTXt chunk's keyword and text; None when it is compressed (a baked credential never is)."""
    keyword, _, rest = data.partition(b"\0")
    if len(rest) < 2 or rest[0] != 0:
        return None
    _language, _, rest = rest[2:].partition(b"\0")
    _translated, _, text = rest.partition(b"\0")
    return keyword.decode("latin-1"), text.decode("utf-8")


def bake_png(png: bytes, credential: str) -> bytes:
    """The PNG with the credential in one uncompressed iTXt chunk; a credential already baked in is an error."""
    chunks = _png_chunks(png)
    if not chunks or chunks[0][0] != b"IHDR":
        raise BakingError("A PNG starts with its IHDR chunk.")
    if read_png_credential(png) is not None:
        raise BakingError("This PNG already carries a credential.")
    itxt = PNG_KEYWORD.encode("latin-1") + b"\0" + b"\0\0" + b"\0" + b"\0" + credential.encode("utf-8")
    out = [PNG_SIGNATURE, _png_chunk(*chunks[0]), _png_chunk(b"iTXt", itxt)]
    out += [_png_chunk(kind, data) for kind, data in chunks[1:]]
    return b"".join(out)


def read_png_credential(png: bytes) -> str | None:
    """The text of the first `openbadgecredential` iTXt chunk, as a backpack extracts it (None if there is none)."""
    for kind, data in _png_chunks(png):
        if kind == b"iTXt":
            found = _itxt_keyword_and_text(data)
            if found is not None and found[0] == PNG_KEYWORD:
                return found[1]
    return None


# --- SVG -----------------------------------------------------------------------------------------------------------


def _cdata(text: str) -> str:
    """Text as CDATA: a `]]>` inside is split across two sections, so any JSON survives unchanged."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def bake_svg(svg: str, credential: str) -> str:
    """The SVG with the OB 3.0 namespace on its root and the credential element directly after the root's tag."""
    if "openbadges:credential" in svg:
        raise BakingError("This SVG already carries a credential.")
    tag = _SVG_START_TAG.search(svg)
    if tag is None:
        raise BakingError("Not an SVG file.")
    opened = tag.group(0)
    closing = "/>" if opened.endswith("/>") else ">"
    if closing == "/>":
        raise BakingError("An empty SVG has no picture to bake into.")
    root = opened[: -len(closing)] + f' xmlns:openbadges="{SVG_NAMESPACE}"' + closing
    element = f"<openbadges:credential>{_cdata(credential)}</openbadges:credential>"
    return svg[: tag.start()] + root + element + svg[tag.end() :]


def read_svg_credential(svg: str) -> str | None:
    """The text of the first `openbadges:credential` element, parsed as XML (None if there is none)."""
    root = ElementTree.fromstring(svg)  # noqa: S314 (our own SVG, or one a test made)
    found = root.find(f".//{{{SVG_NAMESPACE}}}credential")
    return None if found is None else (found.text or "")


# --- the certificate's badge ---------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _badge_file(static_folder: str, name: str) -> bytes:
    return (Path(static_folder) / name).read_bytes()


def _badge(name: str) -> bytes:
    return _badge_file(str(current_app.static_folder or ""), name)


def baked_badge_png(certificate: Certificate) -> bytes:
    """The badge as PNG carrying the certificate's current signed credential."""
    return bake_png(_badge(BADGE_PNG), credential_json(certificate))


def baked_badge_svg(certificate: Certificate) -> str:
    """The badge as SVG carrying the certificate's current signed credential."""
    return bake_svg(_badge(BADGE_SVG).decode("utf-8"), credential_json(certificate))

"""Previews on the grading desk: a PDF's first page as a PNG (pypdfium2) for browsers that cannot show PDFs, and
the text of Word, PowerPoint and OpenDocument files.

The office formats are zipped XML, so their text is read with the standard library's zipfile and ElementTree:
no office suite, and no library per format (python-docx reads only DOCX, python-pptx only PPTX). Only text is
wanted here; the grader downloads the file to see its layout. Entries are read with a size cap, and XML with a
DOCTYPE (which these formats never have) is not parsed, so a crafted file cannot make the page expensive."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

MAX_TEXT_CHARS = 200_000  # shown on the page at most; the rest is in the download
MAX_XML_BYTES = 32 * 1024 * 1024  # one document part, unpacked
MAX_SLIDES = 500
PAGE_WIDTH_PX = 1100  # the first page's PNG is rendered this wide

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
SLIDE = re.compile(r"^ppt/slides/slide(\d+)\.xml$")

# PDFium is not safe to call from two threads at once (pypdfium2's documentation): one render at a time.
_PDFIUM = threading.Lock()


@dataclass
class TextPreview:
    """The text of a document as paragraphs (a slide's number as a heading line), cut at MAX_TEXT_CHARS."""

    paragraphs: list[str] = field(default_factory=list)
    truncated: bool = False
    size: int = 0

    def add(self, text: str) -> bool:
        """Add one paragraph; False once the preview is full."""
        text = text.strip()
        if not text:
            return True
        room = MAX_TEXT_CHARS - self.size
        if len(text) > room:
            self.paragraphs.append(text[:room] + " …")
            self.truncated = True
            return False
        self.paragraphs.append(text)
        self.size += len(text)
        return True


class PreviewUnavailable(Exception):
    """The file cannot be previewed (damaged, too large to unpack): the grader downloads it instead."""


def first_page_png(pdf: Path, cache: Path) -> Path:
    """The PDF's first page as a PNG, rendered once and kept at `cache` (stored files never change)."""
    if cache.is_file():
        return cache
    import pypdfium2

    cache.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=cache.parent, prefix="render-", suffix=".part")
    os.close(fd)
    try:
        with _PDFIUM:
            document = pypdfium2.PdfDocument(str(pdf))
            try:
                if len(document) == 0:
                    raise PreviewUnavailable("the PDF has no pages")
                page = document[0]
                width, _ = page.get_size()
                scale = min(PAGE_WIDTH_PX / width, 4.0) if width > 0 else 1.0
                image = page.render(scale=scale).to_pil()
                page.close()
            finally:
                document.close()
        image.save(partial, format="PNG", optimize=True)
        os.replace(partial, cache)
    except pypdfium2.PdfiumError as exc:
        raise PreviewUnavailable(str(exc)) from exc
    finally:
        with contextlib.suppress(FileNotFoundError):
            Path(partial).unlink()
    return cache


def extract_text(path: Path, file_type: str) -> TextPreview:
    """The text of a DOCX, PPTX, ODT, Markdown or plain text file, for reading beside the rubric."""
    preview = TextPreview()
    if file_type in {"md", "txt"}:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            text = fh.read(MAX_TEXT_CHARS + 1)
        for block in re.split(r"\n\s*\n", text[:MAX_TEXT_CHARS]):
            preview.add(block)
        preview.truncated = preview.truncated or len(text) > MAX_TEXT_CHARS
        return preview
    try:
        with zipfile.ZipFile(path) as archive:
            if file_type == "docx":
                _docx(archive, preview)
            elif file_type == "pptx":
                _pptx(archive, preview)
            elif file_type == "odt":
                _odt(archive, preview)
            else:
                raise PreviewUnavailable(f"no text preview for {file_type}")
    except (zipfile.BadZipFile, KeyError, OSError, EOFError, ElementTree.ParseError, RecursionError) as exc:
        raise PreviewUnavailable(str(exc)) from exc
    return preview


def _xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element:
    info = archive.getinfo(name)
    if info.file_size > MAX_XML_BYTES:
        raise PreviewUnavailable(f"{name} is too large to preview")
    with archive.open(info) as entry:
        data = entry.read(MAX_XML_BYTES + 1)
    if len(data) > MAX_XML_BYTES:
        raise PreviewUnavailable(f"{name} is too large to preview")
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise PreviewUnavailable(f"{name} declares a DOCTYPE")
    return ElementTree.fromstring(data)  # noqa: S314 (no DOCTYPE, so no entities: checked above)


def _ooxml_paragraph(paragraph: ElementTree.Element, prefix: str) -> str:
    parts = []
    for node in paragraph.iter():
        if node.tag == f"{prefix}t" and node.text:
            parts.append(node.text)
        elif node.tag == f"{prefix}tab":
            parts.append("\t")
        elif node.tag in {f"{prefix}br", f"{prefix}cr"}:
            parts.append("\n")
    return "".join(parts)


def _docx(archive: zipfile.ZipFile, preview: TextPreview) -> None:
    body = _xml(archive, "word/document.xml")
    for paragraph in body.iter(f"{W}p"):
        if not preview.add(_ooxml_paragraph(paragraph, W)):
            return


def _pptx(archive: zipfile.ZipFile, preview: TextPreview) -> None:
    slides = sorted(
        (int(match.group(1)), name) for name in archive.namelist() if (match := SLIDE.match(name))
    )
    for number, name in slides[:MAX_SLIDES]:
        if not preview.add(f"— Slide {number} —"):
            return
        for paragraph in _xml(archive, name).iter(f"{A}p"):
            if not preview.add(_ooxml_paragraph(paragraph, A)):
                return
    preview.truncated = preview.truncated or len(slides) > MAX_SLIDES


def _odt_text(node: ElementTree.Element) -> str:
    parts = [node.text or ""]
    for child in node:
        if child.tag == f"{TEXT}s":
            count = child.get(f"{TEXT}c", "1")
            parts.append(" " * min(int(count) if count.isdigit() else 1, 100))
        elif child.tag == f"{TEXT}tab":
            parts.append("\t")
        elif child.tag == f"{TEXT}line-break":
            parts.append("\n")
        elif child.tag not in {f"{TEXT}note", f"{TEXT}p", f"{TEXT}h"}:
            parts.append(_odt_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _odt(archive: zipfile.ZipFile, preview: TextPreview) -> None:
    content = _xml(archive, "content.xml")
    for node in content.iter():
        if node.tag in {f"{TEXT}p", f"{TEXT}h"} and not preview.add(_odt_text(node)):
            return

"""What an uploaded file really is, decided from its bytes, whether its name says the same, and safe names to show
for it."""

from __future__ import annotations

import codecs
import re
import unicodedata
import zipfile
from pathlib import Path

from lms.errors import DomainError

LABELS = {
    "pdf": "PDF",
    "docx": "Word (DOCX)",
    "pptx": "PowerPoint (PPTX)",
    "odt": "OpenDocument text (ODT)",
    "md": "Markdown",
    "txt": "plain text",
}
EXTENSIONS = {"pdf": "pdf", "docx": "docx", "pptx": "pptx", "odt": "odt", "md": "md", "txt": "txt"}
MIME_TYPES = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "md": "text/markdown; charset=utf-8",
    "txt": "text/plain; charset=utf-8",
}
# What a browser's file picker offers (a hint only: the server decides from the content).
ACCEPT = {
    "pdf": ".pdf,application/pdf",
    "docx": ".docx",
    "pptx": ".pptx",
    "odt": ".odt",
    "md": ".md,.markdown,text/markdown",
    "txt": ".txt,text/plain",
}

# What each type is called in a sentence ("This file is plain text, not a PDF.").
AS_NOUN = {
    "pdf": "a PDF",
    "docx": "a Word document (DOCX)",
    "pptx": "a PowerPoint presentation (PPTX)",
    "odt": "an OpenDocument text (ODT)",
    "md": "Markdown text",
    "txt": "plain text",
}
# The type a file name's extension claims. Markdown and plain text are both text: between them the name decides.
CLAIMED_BY_EXTENSION = {
    "pdf": "pdf",
    "docx": "docx",
    "pptx": "pptx",
    "odt": "odt",
    "md": "md",
    "markdown": "md",
    "txt": "txt",
    "text": "txt",
}
# Extensions of files we never accept, so a document named like one is refused as a contradiction too.
OTHER_EXTENSIONS = {
    "doc": "an old Word document (.doc)",
    "ppt": "an old PowerPoint file (.ppt)",
    "rtf": "an RTF document",
    "html": "a web page",
    "htm": "a web page",
    "xls": "a spreadsheet",
    "xlsx": "a spreadsheet",
    "ods": "a spreadsheet",
    "zip": "a ZIP archive",
    "png": "a PNG image",
    "jpg": "a JPEG image",
    "jpeg": "a JPEG image",
    "gif": "a GIF image",
    "exe": "a program",
}
TEXT_TYPES = frozenset({"md", "txt"})

ODT_MIMETYPE = b"application/vnd.oasis.opendocument.text"
CHUNK = 1024 * 1024
SNIFF = 4096

# Signatures of files we refuse, so the message can say what the file is.
EXECUTABLE_SIGNATURES = (
    b"MZ",  # Windows programs and libraries
    b"\x7fELF",  # Linux programs
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",  # macOS programs
    b"\xca\xfe\xba\xbe",  # macOS universal programs, Java classes
    b"#!",  # scripts
)
OTHER_SIGNATURES = (
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an old Word or PowerPoint file (.doc/.ppt); save it as DOCX, PPTX or PDF",
    ),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"{\\rtf", "an RTF document; save it as DOCX or PDF"),
)
# Markup (HTML, SVG, XML) starts with a tag: a browser could run it, so it is never taken for text.
HTML_MARKERS = re.compile(rb"^\s*<[!?a-z]", re.I)
MARKDOWN_MARKERS = re.compile(
    r"^(#{1,6}\s+\S|\s*[-*+]\s+\S|\s*\d+\.\s+\S|```|>\s)|\[[^\]\n]+\]\([^)\s]+\)|\*\*[^*\n]+\*\*", re.M
)


class UnsupportedFile(DomainError):
    """The upload is not a file type we accept; the message says what it is and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


# A DOCX, PPTX or ODT is a zip: refused when its entries would unpack past MAX_UNPACKED bytes in all, or when
# one entry of more than RATIO_FLOOR bytes unpacks to more than MAX_RATIO times its packed size (a zip bomb).
# Real documents: images barely compress, XML about 5 to 20 times.
MAX_UNPACKED = 300 * 1024 * 1024
MAX_RATIO = 100
RATIO_FLOOR = 1024 * 1024


def detect_type(path: Path, max_unpacked: int = MAX_UNPACKED, max_ratio: int = MAX_RATIO) -> str:
    """Return the file's type ("pdf", "docx", "pptx", "odt", "md" or "txt") or raise UnsupportedFile. A zip
    document is judged by its central directory alone (nothing is unpacked): see check_unpacked_size."""
    size = path.stat().st_size
    if size == 0:
        raise UnsupportedFile("The file is empty. Choose the file that holds your work and upload it again.")
    with path.open("rb") as fh:
        head = fh.read(SNIFF)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return _office_type(path, max_unpacked, max_ratio)
    if head.startswith(EXECUTABLE_SIGNATURES):
        raise UnsupportedFile("This file is a program (an executable), not a document. Upload your document.")
    for signature, what in OTHER_SIGNATURES:
        if head.startswith(signature):
            raise UnsupportedFile(f"This file is {what}. {accepted_sentence()}")
    if HTML_MARKERS.match(head.lstrip(b"\xef\xbb\xbf")):
        raise UnsupportedFile(
            f"This file is a web page (HTML or XML), whatever its name says. {accepted_sentence()}"
        )
    # Equivalent mutant (head replaced by None): _text_type reads the file again and never looks at head.
    return _text_type(path, head)  # pragma: no mutate


def check_name(filename: str | None, detected: str) -> str:
    """The type to keep for a file whose content is `detected`: refused (UnsupportedFile) when the name's extension
    says it is something else ("This file is plain text, not a PDF"). A name without a known extension claims
    nothing; between Markdown and plain text, which are the same bytes, the name decides."""
    stem, dot, extension = safe_display_name(filename).rpartition(".")
    extension = extension.lower() if dot and stem else ""
    claimed = CLAIMED_BY_EXTENSION.get(extension)
    if claimed is None and extension not in OTHER_EXTENSIONS:
        return detected
    if claimed == detected or (claimed in TEXT_TYPES and detected in TEXT_TYPES):
        return claimed or detected
    what = AS_NOUN[claimed] if claimed else OTHER_EXTENSIONS[extension]
    raise UnsupportedFile(
        f"This file is {AS_NOUN[detected]}, not {what}, whatever its name says. Upload the real "
        f"{LABELS[claimed] if claimed else 'document'} file, or give this one a name that ends in "
        f".{EXTENSIONS[detected]}."
    )


def accepted_sentence(formats: list[str] | tuple[str, ...] | None = None) -> str:
    names = [LABELS[f] for f in (formats or LABELS)]
    listed = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
    return f"Upload a {listed} file."


def check_unpacked_size(entries: list[zipfile.ZipInfo], max_unpacked: int, max_ratio: int) -> None:
    """Refuse (UnsupportedFile) a zip whose entries, as its central directory declares them, would unpack past
    `max_unpacked` bytes in all, or hold an entry over RATIO_FLOOR bytes packed more than `max_ratio` times."""
    total = sum(entry.file_size for entry in entries)
    if total > max_unpacked:
        raise UnsupportedFile(
            f"This document would unpack to {total // (1024 * 1024)} MB, more than the "
            f"{max_unpacked // (1024 * 1024)} MB we accept. Export it as PDF, or compress its images, "
            "and upload it again."
        )
    for entry in entries:
        if entry.file_size > RATIO_FLOOR and entry.file_size > max_ratio * max(entry.compress_size, 1):
            raise UnsupportedFile(
                "This document holds a part that unpacks to far more than its size (a 'zip bomb'), "
                "so we cannot accept it. Export it as PDF and upload that."
            )


def _office_type(path: Path, max_unpacked: int = MAX_UNPACKED, max_ratio: int = MAX_RATIO) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            check_unpacked_size(archive.infolist(), max_unpacked, max_ratio)
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as entry:
                    mimetype = entry.read(100).strip()
                if mimetype == ODT_MIMETYPE:
                    return "odt"
                raise UnsupportedFile(f"This OpenDocument file is not a text document. {accepted_sentence()}")
            if "[Content_Types].xml" in names:
                if any(name.lower().endswith("vbaproject.bin") for name in names):
                    raise UnsupportedFile(
                        "This Office file contains macros, which we do not accept. "
                        "Save it as a normal DOCX or PPTX (or PDF) and upload that."
                    )
                if "word/document.xml" in names:
                    return "docx"
                if "ppt/presentation.xml" in names:
                    return "pptx"
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise UnsupportedFile(
            "This file looks like a Word, PowerPoint or OpenDocument file but it is damaged. "
            "Save it again from your editor, or export it as PDF."
        ) from exc
    raise UnsupportedFile(f"This file is a ZIP archive, not a document. {accepted_sentence()}")


def _text_type(path: Path, head: bytes) -> str:
    """UTF-8 text without control characters is Markdown (when it uses Markdown) or plain text."""
    # Equivalent mutants: errors=None is strict too, and codec names ignore case ("UTF-8").
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")  # pragma: no mutate
    sample = ""
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                if b"\x00" in chunk or _has_control_bytes(chunk):
                    raise UnsupportedFile(
                        f"This file is not a document we can read (it holds binary data). {accepted_sentence()}"
                    )
                text = decoder.decode(chunk)
                if len(sample) < SNIFF * 4:
                    sample += text[: SNIFF * 4]
            decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise UnsupportedFile(
            "This text file is not in UTF-8. Save it as UTF-8 text (or export it as PDF) and upload it again."
        ) from exc
    return "md" if MARKDOWN_MARKERS.search(sample.lstrip("\ufeff")) else "txt"


_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"


def _has_control_bytes(chunk: bytes) -> bool:
    return len(chunk.translate(None, _CONTROL)) != len(chunk)


MAX_NAME = 200


def safe_display_name(name: str | None, fallback: str = "upload") -> str:
    """A file name fit to show and to offer as a download name: no folders, no control characters, not too long.

    It is only ever displayed: files are stored under random names, whatever this says."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join("_" if unicodedata.category(ch).startswith("C") or ch in '"<>:|?*' else ch for ch in name)
    name = " ".join(name.split()).strip(" .")
    if not name or set(name) <= {"_"}:
        name = fallback
    if len(name) > MAX_NAME:
        stem, dot, ext = name.rpartition(".")
        if dot and 0 < len(ext) <= 10:
            name = stem[: MAX_NAME - len(ext) - 1].rstrip(" .") + "." + ext
        else:
            name = name[:MAX_NAME].rstrip(" .")
    return name


def download_name(original_name: str, file_type: str) -> str:
    """The original name, ending in the extension of what the file really is."""
    name = safe_display_name(original_name)
    extension = EXTENSIONS[file_type]
    if file_type == "md" and name.lower().endswith(".markdown"):
        return name
    if not name.lower().endswith("." + extension):
        name = f"{name[: MAX_NAME - len(extension) - 1]}.{extension}"
    return name

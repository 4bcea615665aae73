"""Edges of upload checking that mutation testing showed no test pinned: the exact refusals (with the list of
accepted formats), control bytes and cut-off characters in text, the Markdown sniffing window, and safe names
at and around each length limit."""

from __future__ import annotations

import io
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from lms.assignments import filetypes
from tests.fixtures.files import samples

EVERY_FORMAT = (
    "Upload a PDF, Word (DOCX), PowerPoint (PPTX), OpenDocument text (ODT), Markdown or plain text file."
)


def write(tmp_path: Path, data: bytes, name: str = "upload.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def detect(tmp_path: Path, data: bytes) -> str:
    return filetypes.detect_type(write(tmp_path, data))


def refusal(tmp_path: Path, data: bytes) -> str:
    with pytest.raises(filetypes.UnsupportedFile) as caught:
        detect(tmp_path, data)
    return caught.value.message


def zipped(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            # a fixed date: the bytes are part of the test ids, which every xdist worker must collect alike
            archive.writestr(zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


# -- the sentence that lists what we accept --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("formats", "sentence"),
    [
        (None, EVERY_FORMAT),
        (["pdf"], "Upload a PDF file."),
        (("pdf", "docx"), "Upload a PDF or Word (DOCX) file."),
        (["md", "txt", "odt"], "Upload a Markdown, plain text or OpenDocument text (ODT) file."),
    ],
)
def test_accepted_sentence_lists_the_formats_in_plain_words(formats, sentence):
    assert filetypes.accepted_sentence(formats) == sentence


# -- refusals, word for word -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty. Choose the file that holds your work and upload it again."),
        (
            samples.windows_exe(),
            "This file is a program (an executable), not a document. Upload your document.",
        ),
        (samples.png(), f"This file is a PNG image. {EVERY_FORMAT}"),
        (samples.html(), f"This file is a web page (HTML or XML), whatever its name says. {EVERY_FORMAT}"),
        (samples.plain_zip(), f"This file is a ZIP archive, not a document. {EVERY_FORMAT}"),
        (samples.ods(), f"This OpenDocument file is not a text document. {EVERY_FORMAT}"),
        (
            samples.docm(),
            "This Office file contains macros, which we do not accept. "
            "Save it as a normal DOCX or PPTX (or PDF) and upload that.",
        ),
        (
            b"PK\x03\x04" + b"\x00" * 200,
            "This file looks like a Word, PowerPoint or OpenDocument file but it is damaged. "
            "Save it again from your editor, or export it as PDF.",
        ),
        (
            samples.latin1_text(),
            "This text file is not in UTF-8. Save it as UTF-8 text (or export it as PDF) and upload it again.",
        ),
        (b"notes\x00", f"This file is not a document we can read (it holds binary data). {EVERY_FORMAT}"),
    ],
)
def test_refusals_say_what_the_file_is_and_what_to_upload(tmp_path, data, message):
    assert refusal(tmp_path, data) == message


# -- text: control bytes, cut-off characters, what is skipped before sniffing ---------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"Notes\x01 with a control byte but no NUL",
        b"\x1b[31mcoloured terminal output\x1b[0m\n",
        b"a delete character \x7f in the middle",
    ],
)
def test_control_bytes_without_nul_are_binary_data(tmp_path, data):
    assert "it holds binary data" in refusal(tmp_path, data)


def test_tabs_line_breaks_and_form_feeds_are_text(tmp_path):
    assert detect(tmp_path, b"col\tcol\r\nnext page\x0cdone\n") == "txt"


def test_a_utf8_character_cut_off_at_the_end_is_not_utf8(tmp_path):
    assert "not in UTF-8" in refusal(tmp_path, "Résumé of the caf".encode() + "é".encode()[:1])


def test_a_utf8_character_split_across_two_reads_is_still_text(tmp_path):
    data = b"a" * (filetypes.CHUNK - 1) + "é".encode() + b" and more\n"
    assert detect(tmp_path, data) == "txt"


def test_only_the_byte_order_mark_is_skipped_before_looking_for_markup_or_markdown(tmp_path):
    assert detect(tmp_path, b"X<i>marks</i> the spot\n") == "txt"  # a tag after a letter is not a web page
    assert detect(tmp_path, b"X* marks the spot\n") == "txt"  # nor is "* " after a letter a list
    assert detect(tmp_path, "\ufeff# Heading after a byte order mark\n".encode()) == "md"


def test_a_heading_on_the_first_line_alone_makes_markdown(tmp_path):
    assert detect(tmp_path, b"# Handbook\nplain words follow\n") == "md"


def test_markdown_is_sniffed_from_the_first_16384_characters_only(tmp_path):
    window = filetypes.SNIFF * 4
    line = b"plain words without any markup at all\n"
    start = line * (window // len(line))  # just under the window
    data = start + b"padding " * ((window - len(start)) // 8 + 1) + b"\n# Heading past the window\n"
    data += b"x" * (filetypes.CHUNK - len(data))  # the next read starts with a heading on a line of its own
    data += b"\n# Heading at the start of the second read\n"
    assert detect(tmp_path, start + b"\n# Heading inside the window\n") == "md"
    assert detect(tmp_path, data) == "txt"


def test_a_big_text_file_is_checked_in_chunks_never_read_whole(tmp_path):
    path = write(tmp_path, b"plain words, nothing else\n" * (16 * 1024 * 1024 // 26))
    tracemalloc.start()
    try:
        assert filetypes.detect_type(path) == "txt"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6 * 1024 * 1024, f"peak {peak / 1048576:.1f} MB for a 16 MB text file"


def test_only_the_first_100_bytes_of_an_opendocument_mimetype_are_read(tmp_path):
    # The entry could be huge: it is judged on its first 100 bytes (stripped), never read whole.
    padded = filetypes.ODT_MIMETYPE.ljust(100) + b"x" * 10_000
    assert (
        detect(tmp_path, zipped({"mimetype": padded, "content.xml": b"<office:document-content/>"})) == "odt"
    )


# -- safe names ------------------------------------------------------------------------------------------------

MAX = filetypes.MAX_NAME


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("X-ray report.pdf", "X-ray report.pdf"),  # letters are kept, at either end too
        ("Appendix X", "Appendix X"),
        ("a/b\\c/d.pdf", "d.pdf"),
        ('<>|"', "upload"),  # nothing left but replaced characters
        ("__", "upload"),
        ("_a_", "_a_"),
    ],
)
def test_display_names(given, expected):
    assert filetypes.safe_display_name(given) == expected


def test_a_name_exactly_at_the_limit_is_kept_as_it_is():
    name = "a" * (MAX - len("..pdf")) + "..pdf"
    assert filetypes.safe_display_name(name) == name


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        # no extension at all: cut at the limit
        ("x" * (MAX + 50), "x" * MAX),
        ("word " * 100, ("word " * 40).rstrip()),
        ("a" * (MAX - 1) + ". then a long tail", "a" * (MAX - 1)),  # a dot, but what follows is no extension
        ("ABCX" * 75, "ABCX" * 50),  # the cut keeps letters, whatever they are
        # an extension of 1 to 10 characters survives the cut
        ("x" * MAX + ".c", "x" * (MAX - 2) + ".c"),
        ("x" * MAX + ".abcdefghij", "x" * (MAX - 11) + ".abcdefghij"),
        ("x" * MAX + ".abcdefghijk", "x" * MAX),  # 11 characters: not an extension
        ("v1.2 " + "é" * MAX + ".docx", "v1.2 " + "é" * (MAX - 10) + ".docx"),  # the last dot counts
        ("Chapter 1. " + "x" * 300, "Chapter 1. " + "x" * (MAX - 11)),
        # the cut never leaves a space or a dot before the extension
        ("a" * (MAX - 6) + " ." + "b" * 100 + ".pdf", "a" * (MAX - 6) + ".pdf"),
        ("ABCX" * 75 + ".pdf", "ABCX" * 49 + ".pdf"),
    ],
)
def test_long_names_are_cut_to_the_limit(given, expected):
    name = filetypes.safe_display_name(given)
    assert name == expected
    assert len(name) <= MAX


@pytest.mark.parametrize(
    ("original", "file_type", "expected"),
    [
        ("notes.markdown", "pdf", "notes.markdown.pdf"),  # only a Markdown file may keep .markdown
        ("notes.MARKDOWN", "md", "notes.MARKDOWN"),
        ("notes.markdown", "txt", "notes.markdown.txt"),
        ("x" * MAX, "pdf", "x" * (MAX - 4) + ".pdf"),
        ("x" * (MAX - 4), "docx", "x" * (MAX - 5) + ".docx"),
        ("x" * (MAX - 5), "docx", "x" * (MAX - 5) + ".docx"),
    ],
)
def test_download_names_stay_within_the_limit_with_the_real_extension(original, file_type, expected):
    name = filetypes.download_name(original, file_type)
    assert name == expected
    assert len(name) <= MAX


# -- a name that contradicts the content -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "detected", "kept"),
    [
        (None, "txt", "txt"),
        ("handbook", "pdf", "pdf"),  # no extension claims nothing
        ("handbook.final", "pdf", "pdf"),  # nor one we do not know
        ("md", "pdf", "pdf"),  # nor a name that is only an extension's letters
        ("Handbook.DOCX", "docx", "docx"),
        ("notes.md", "txt", "md"),  # between Markdown and plain text the name decides
        ("notes.markdown", "txt", "md"),
        ("notes.TXT", "md", "txt"),
        ("notes.text", "md", "txt"),
        ("folder/notes.odt", "odt", "odt"),
    ],
)
def test_check_name_keeps_the_type_a_name_agrees_with(name, detected, kept):
    assert filetypes.check_name(name, detected) == kept


@pytest.mark.parametrize(
    ("name", "detected", "message"),
    [
        (
            "fake.pdf",
            "txt",
            "This file is plain text, not a PDF, whatever its name says. "
            "Upload the real PDF file, or give this one a name that ends in .txt.",
        ),
        (
            "fake.v2.pdf",  # the last dot says what the name claims
            "txt",
            "This file is plain text, not a PDF, whatever its name says. "
            "Upload the real PDF file, or give this one a name that ends in .txt.",
        ),
        (
            "notes.md",
            "pdf",
            "This file is a PDF, not Markdown text, whatever its name says. "
            "Upload the real Markdown file, or give this one a name that ends in .pdf.",
        ),
        (
            "handbook.doc",
            "pdf",
            "This file is a PDF, not an old Word document (.doc), whatever its name says. "
            "Upload the real document file, or give this one a name that ends in .pdf.",
        ),
        (
            "slides.PNG",
            "pptx",
            "This file is a PowerPoint presentation (PPTX), not a PNG image, whatever its name says. "
            "Upload the real document file, or give this one a name that ends in .pptx.",
        ),
    ],
)
def test_check_name_refuses_a_name_that_says_something_else(name, detected, message):
    with pytest.raises(filetypes.UnsupportedFile) as caught:
        filetypes.check_name(name, detected)
    assert caught.value.message == message
    assert caught.value.field == "file"

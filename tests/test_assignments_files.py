"""What an upload is (decided by content, never by name), safe display names, and streaming storage on disk."""

from __future__ import annotations

import hashlib
import io
import tracemalloc
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms import clock
from lms.assignments import filetypes, storage
from lms.assignments.models import Submission
from lms.extensions import db
from tests.fixtures.files import rows, samples
from tests.fixtures.files.uploads import post_upload

ACCEPTED = [
    (samples.pdf, "pdf"),
    (samples.docx, "docx"),
    (samples.pptx, "pptx"),
    (samples.odt, "odt"),
    (samples.markdown, "md"),
    (samples.text, "txt"),
]
REFUSED = [
    (samples.windows_exe, "a program (an executable)"),
    (samples.elf, "a program (an executable)"),
    (samples.html, "a web page (HTML or XML)"),
    (lambda: b"", "The file is empty."),
    (samples.png, "a PNG image"),
    (samples.latin1_text, "not in UTF-8"),
    (samples.binary_junk, "binary data"),
    (samples.plain_zip, "a ZIP archive, not a document"),
    (samples.ods, "not a text document"),
    (samples.docm, "contains macros"),
    (lambda: b"PK\x03\x04" + b"\x00" * 200, "damaged"),
    (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "an old Word or PowerPoint file"),
]


def write(tmp_path: Path, data: bytes, name: str = "upload.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(("make", "expected"), ACCEPTED, ids=[e for _, e in ACCEPTED])
def test_each_accepted_format_is_recognized_by_its_content(tmp_path, make, expected):
    # The name says nothing: every sample is saved under the same meaningless name.
    assert filetypes.detect_type(write(tmp_path, make())) == expected


@pytest.mark.parametrize(("make", "message"), REFUSED, ids=[m for _, m in REFUSED])
def test_refused_files_say_what_they_are(tmp_path, make, message):
    with pytest.raises(filetypes.UnsupportedFile) as caught:
        filetypes.detect_type(write(tmp_path, make(), "handbook.pdf"))
    assert message in caught.value.message
    assert caught.value.field == "file"


def test_markup_is_never_taken_for_text_even_with_a_byte_order_mark(tmp_path):
    with pytest.raises(filetypes.UnsupportedFile, match="web page"):
        filetypes.detect_type(write(tmp_path, b"\xef\xbb\xbf  <svg onload=alert(1)>", "notes.txt"))


def test_text_with_a_binary_tail_is_refused_even_past_the_first_chunk(tmp_path):
    data = b"# Handbook\n" + b"plain words " * 200_000 + b"\x00\x01\x02"
    with pytest.raises(filetypes.UnsupportedFile, match="binary data"):
        filetypes.detect_type(write(tmp_path, data))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("/var/www/static/evil.pdf", "evil.pdf"),
        ("C:\\Users\\sam\\Handbook final.docx", "Handbook final.docx"),
        ("hand\x00book.pdf", "hand_book.pdf"),
        ("line\nbreak\r.pdf", "line_break_.pdf"),
        ('quote"d<name>.pdf', "quote_d_name_.pdf"),
        ("Стратегия 戦略 ☕.pdf", "Стратегия 戦略 ☕.pdf"),
        ("...", "upload"),
        ("", "upload"),
        (None, "upload"),
    ],
)
def test_display_names_are_made_safe(given, expected):
    assert filetypes.safe_display_name(given) == expected


def test_very_long_names_keep_their_extension():
    name = filetypes.safe_display_name("é" * 600 + ".docx")
    assert len(name) == filetypes.MAX_NAME
    assert name.endswith(".docx")


def test_download_names_end_in_what_the_file_really_is():
    assert filetypes.download_name("report.html", "txt") == "report.html.txt"
    assert filetypes.download_name("handbook", "pdf") == "handbook.pdf"
    assert filetypes.download_name("Handbook.PDF", "pdf") == "Handbook.PDF"
    assert filetypes.download_name("notes.markdown", "md") == "notes.markdown"


class Interrupted(io.RawIOBase):
    """A request body that breaks off after some chunks, as when the student's connection drops."""

    def __init__(self, chunks: int) -> None:
        self.left = chunks

    def read(self, size: int = -1) -> bytes:
        if self.left == 0:
            raise OSError("connection reset by peer")
        self.left -= 1
        return b"%PDF-1.4\n" + b"x" * (storage.CHUNK - 9)


def files_under(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.is_file())


def test_storage_hashes_while_streaming_and_stores_under_a_random_name(app, tmp_path):
    data = samples.pdf() * 3
    stored, found = storage.store_stream(io.BytesIO(data), 10_000, filetypes.detect_type)
    assert found == "pdf"
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    path = storage.path_for(stored.name)
    assert path.read_bytes() == data
    assert path.is_relative_to(Path(app.config["UPLOAD_DIR"]))
    assert len(stored.name) == 32 and int(stored.name, 16) >= 0
    assert files_under(Path(app.config["UPLOAD_DIR"])) == [path]


@pytest.mark.parametrize(
    ("stream", "limit", "error"),
    [
        (lambda: Interrupted(chunks=3), 100 * storage.CHUNK, OSError),
        (lambda: io.BytesIO(b"%PDF-" + b"x" * 5000), 4096, storage.FileTooLarge),
        (lambda: io.BytesIO(samples.windows_exe()), 4096, filetypes.UnsupportedFile),
    ],
    ids=["interrupted", "too-large", "refused-type"],
)
def test_a_failed_upload_leaves_no_file_behind(app, stream, limit, error):
    with pytest.raises(error):
        storage.store_stream(stream(), limit, filetypes.detect_type)
    assert files_under(Path(app.config["UPLOAD_DIR"])) == []


def test_stored_names_cannot_point_outside_the_upload_folder(app):
    for bad in ("../../etc/passwd", "0" * 31, "/" + "0" * 31, "G" * 32):
        with pytest.raises(ValueError):
            storage.path_for(bad)


def test_a_failure_after_storing_removes_the_file_and_leaves_no_row(app, student, monkeypatch):
    track = rows.make_track()
    assignment = rows.make_assignment(track)
    rows.enroll(student, track)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr("lms.assignments.submitting.record_event", broken)
    with pytest.raises(RuntimeError):
        rows.upload(student, assignment)
    assert db.session.execute(sa.select(sa.func.count()).select_from(Submission)).scalar_one() == 0
    assert files_under(Path(app.config["UPLOAD_DIR"])) == []


BIG = 60 * 1024 * 1024


@pytest.mark.parametrize("backend", ["sqlite"])  # streaming does not depend on the database
@pytest.mark.app_config(MAX_CONTENT_LENGTH=100 * 1024 * 1024 + 64 * 1024)
def test_a_60_mb_upload_streams_to_disk_without_growing_memory(app, client, student, login, tmp_path):
    clock.freeze(None)
    track = rows.make_track()
    rows.make_assignment(track, max_size_mb=100)
    rows.enroll(student, track)
    login(client, student)
    big = samples.write_big_pdf(tmp_path / "big-handbook.pdf", BIG)
    expected = hashlib.sha256()
    with big.open("rb") as fh:
        while chunk := fh.read(storage.CHUNK):
            expected.update(chunk)

    tracemalloc.start()
    try:
        with big.open("rb") as fh:
            response = post_upload(client, "/assignments/strategist/handbook/upload", fh, "big-handbook.pdf")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    submission = db.session.execute(sa.select(Submission)).scalar_one()
    assert submission.size_bytes == BIG
    assert submission.sha256 == expected.hexdigest()
    assert storage.path_for(submission.stored_name).stat().st_size == BIG
    # The whole request (test client encoding, Werkzeug parsing, our copy) peaks far below the file's size.
    assert peak < 12 * 1024 * 1024, f"peak traced memory {peak / 1048576:.1f} MB for a 60 MB upload"

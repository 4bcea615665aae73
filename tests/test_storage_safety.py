"""Uploads leave nothing half-written: a full disk is a clear 507 with nothing kept, unfinished uploads are swept,
`lms check-storage` finds files without rows and rows without files, and zip bombs are refused from the central
directory alone. Markdown downloads say their charset once."""

from __future__ import annotations

import errno
import io
import os
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from lms import clock, create_app
from lms.assignments import filetypes, operations, storage
from lms.assignments.models import Submission
from lms.extensions import db
from tests.fixtures.files import rows, samples
from tests.fixtures.files.uploads import post_upload
from tests.support import field_error

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
URL = "/assignments/strategist/handbook"


@pytest.fixture
def course(app, student, client, login):
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track)
    rows.enroll(student, track, T0)
    login(client, student)
    return SimpleNamespace(track=track, assignment=assignment, student=student)


def every_file(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def submission_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Submission))


class FullDisk(io.RawIOBase):
    """A file that takes 100 KB, then reports the disk full, as a real write would."""

    def __init__(self, real):
        self.real, self.written = real, 0

    def write(self, data):
        self.written += len(data)
        if self.written > 100 * 1024:
            raise OSError(errno.ENOSPC, "No space left on device")
        return self.real.write(data)

    def fileno(self):
        return self.real.fileno()

    def flush(self):
        if not self.real.closed:
            self.real.flush()

    def close(self):
        super().close()
        self.real.close()


def fill_the_disk(monkeypatch):
    real_fdopen = os.fdopen
    monkeypatch.setattr(storage.os, "fdopen", lambda fd, mode="r", *a, **k: FullDisk(real_fdopen(fd, mode)))


@pytest.mark.parametrize("as_json", [False, True], ids=["page", "json"])
def test_a_full_disk_is_a_507_with_nothing_kept(app, client, course, monkeypatch, as_json):
    fill_the_disk(monkeypatch)
    big = samples.pdf() + b"%" + b"x" * (300 * 1024)
    if as_json:
        client.environ_base["HTTP_ACCEPT"] = "application/json"
    response = post_upload(client, URL + "/upload", big, "handbook.pdf")
    assert response.status_code == 507
    if as_json:
        assert response.get_json()["error"] == "Storage full"
    else:
        page = response.get_data(as_text=True)
        assert "run out of storage space" in page and response.headers["X-Request-ID"] in page
    assert submission_count() == 0
    assert every_file(app) == []  # the partial file went too


def test_unfinished_uploads_are_swept_once_old_enough(app):
    partial = Path(app.config["UPLOAD_DIR"]) / "partial"
    partial.mkdir(parents=True)
    old, young = partial / "upload-old.part", partial / "upload-young.part"
    old.write_bytes(b"x" * 1000)
    young.write_bytes(b"y")
    an_hour_and_more = time.time() - 61 * 60
    os.utime(old, (an_hour_and_more, an_hour_and_more))
    with app.app_context():
        assert operations.sweep_temporary_uploads(datetime.now(UTC)) == 1
    assert not old.exists() and young.exists()  # a young file may be an upload still running

    # At start-up too: a new process sweeps what a killed one left.
    os.utime(young, (an_hour_and_more, an_hour_and_more))
    fresh = create_app({**app.config})
    with fresh.app_context():
        from lms.database import dispose_engines

        dispose_engines(db.engine)
    assert not young.exists()


def test_check_storage_reports_and_quarantines(app, course):
    kept = rows.upload(course.student, course.assignment, now=T0)
    gone = rows.hand_in(course.student, course.assignment, samples.pdf("Second"), now=T0)
    storage.path_for(gone.stored_name).unlink()  # a row without its file
    orphan = storage.path_for("ab" + "0" * 30)  # a file without a row (a process killed before its commit)
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_bytes(b"%PDF-1.4 orphan")
    recent = storage.path_for("cd" + "1" * 30)  # too young to judge: its upload may be about to commit
    recent.parent.mkdir(parents=True, exist_ok=True)
    recent.write_bytes(b"%PDF-1.4 recent")
    long_ago = time.time() - 2 * 3600
    os.utime(orphan, (long_ago, long_ago))
    clock.freeze(datetime.now(UTC))

    runner = app.test_cli_runner()
    report = runner.invoke(args=["lms", "check-storage"])
    assert report.exit_code == 1
    assert f"file without a row: ab/{orphan.name}" in report.output
    assert f"row without its file: submission {gone.id} ({gone.stored_name})" in report.output
    assert "1 recent file(s) not judged" in report.output
    assert orphan.exists() and kept.stored_name  # reporting moves nothing

    fixed = runner.invoke(args=["lms", "check-storage", "--fix"])
    assert f"quarantined: quarantine/{orphan.name}" in fixed.output
    assert not orphan.exists() and (Path(app.config["UPLOAD_DIR"]) / "quarantine" / orphan.name).exists()
    assert storage.path_for(kept.stored_name).exists() and recent.exists()


def test_check_storage_on_a_clean_folder(app, course):
    rows.upload(course.student, course.assignment, now=T0)
    result = app.test_cli_runner().invoke(args=["lms", "check-storage"])
    assert result.exit_code == 0 and "in step with the database" in result.output


def bomb(entry_size: int, name: str = "word/media/padding.bin") -> bytes:
    """A DOCX with one entry of `entry_size` zero bytes, which deflate packs about a thousand times."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", samples.CONTENT_TYPES)
        archive.writestr("word/document.xml", b"<w:document/>")
        with archive.open(name, "w") as entry:
            zeros = b"\0" * (1024 * 1024)
            for _ in range(entry_size // len(zeros)):
                entry.write(zeros)
    return out.getvalue()


def test_a_zip_bomb_is_refused_at_upload(app, client, course):
    data = bomb(20 * 1024 * 1024)
    assert len(data) < 100 * 1024  # 20 MB of zeros in a few KB
    response = post_upload(client, URL + "/upload", data, "handbook.docx")
    assert response.status_code == 422
    assert "zip bomb" in field_error(response.get_data(as_text=True), "file")
    assert submission_count() == 0 and every_file(app) == []


def test_the_unpacked_limits_read_only_the_central_directory(tmp_path, monkeypatch):
    path = tmp_path / "big.docx"
    path.write_bytes(bomb(8 * 1024 * 1024))
    monkeypatch.setattr(zipfile.ZipFile, "read", lambda *a, **k: pytest.fail("an entry was unpacked"))
    with pytest.raises(filetypes.UnsupportedFile, match="zip bomb"):
        filetypes.detect_type(path)
    with pytest.raises(filetypes.UnsupportedFile, match="unpack to 8 MB, more than the 5 MB"):
        filetypes.detect_type(path, max_unpacked=5 * 1024 * 1024, max_ratio=100_000)
    monkeypatch.undo()
    # Within both limits, the same file is a document.
    assert filetypes.detect_type(path, max_unpacked=10 * 1024 * 1024, max_ratio=100_000) == "docx"


def test_a_markdown_download_names_its_charset_once(app, client, course):
    submission = rows.upload(course.student, course.assignment, samples.markdown(), "notes.md", now=T0)
    response = client.get(f"/assignments/submissions/{submission.id}/file")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/markdown; charset=utf-8"
    pdf = rows.upload(course.student, course.assignment, now=T0)
    assert client.get(f"/assignments/submissions/{pdf.id}/file").headers["Content-Type"] == "application/pdf"


@pytest.mark.app_config(UPLOAD_MAX_UNPACKED_MB=1, UPLOAD_MAX_ZIP_RATIO=100_000)
def test_the_site_settings_set_the_unpacked_limit(app, client, course):
    response = post_upload(client, URL + "/upload", bomb(2 * 1024 * 1024), "handbook.docx")
    assert response.status_code == 422
    assert "would unpack to 2 MB, more than the 1 MB" in field_error(response.get_data(as_text=True), "file")
    assert post_upload(client, URL + "/upload", samples.docx(), "handbook.docx").status_code == 302

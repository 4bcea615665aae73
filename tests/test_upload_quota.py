"""One student cannot fill the storage: a quota per assignment (uploads or megabytes, whichever comes first), an
upload rate limit, deleting one's own drafts never handed in, and pruning drafts replaced long ago. A draft that
loses its file keeps its row, saying who removed it and when; a handed-in version is never touched."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from lms import clock
from lms.assignments import operations, storage
from lms.assignments.models import Submission
from lms.audit import AuditEvent
from lms.errors import DomainError
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


def stored_names(app) -> set[str]:
    root = Path(app.config["UPLOAD_DIR"])
    return {p.name for p in root.glob("??/*") if p.is_file()}


def submissions() -> list[Submission]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(Submission).order_by(Submission.id)).scalars())


@pytest.mark.app_config(UPLOAD_QUOTA_VERSIONS=3)
def test_an_upload_past_the_number_of_stored_files_is_refused_with_a_message(app, client, course):
    for n in range(3):
        assert post_upload(client, URL + "/upload", samples.pdf(f"Draft {n}"), f"d{n}.pdf").status_code == 302
    before = stored_names(app)
    response = post_upload(client, URL + "/upload", samples.pdf("One more"), "more.pdf")
    assert response.status_code == 422
    error = field_error(response.get_data(as_text=True), "file")
    assert error is not None and "at most 3 uploads" in error and "Delete drafts" in error
    assert len(submissions()) == 3 and stored_names(app) == before  # nothing written, not even for a moment


@pytest.mark.app_config(UPLOAD_QUOTA_MB=1)
def test_an_upload_past_the_megabytes_is_refused_and_its_file_removed(app, client, course):
    big = samples.pdf() + b"%" + b"x" * (700 * 1024)  # a PDF with a long trailing comment: 700 KB
    assert post_upload(client, URL + "/upload", big, "first.pdf").status_code == 302
    response = post_upload(client, URL + "/upload", big, "second.pdf")
    assert response.status_code == 422
    assert "1.0 MB" in field_error(response.get_data(as_text=True), "file")
    assert len(submissions()) == 1 and len(stored_names(app)) == 1


@pytest.mark.app_config(UPLOAD_QUOTA_VERSIONS=2)
def test_deleting_a_draft_frees_room_and_keeps_the_row_with_who_and_when(app, client, course):
    assert post_upload(client, URL + "/upload", samples.pdf("First"), "first.pdf").status_code == 302
    assert post_upload(client, URL + "/upload", samples.pdf("Second"), "second.pdf").status_code == 302
    page = client.get(URL).get_data(as_text=True)
    assert "Stored drafts" in page and "first.pdf" in page and "2 of 2 uploads" in page
    first, second = submissions()

    clock.freeze(datetime(2025, 3, 3, 10, 0, tzinfo=UTC))
    response = client.post(f"{URL}/drafts/{first.id}/delete")
    assert response.status_code == 302
    first, second = submissions()
    assert first.state == "replaced" and first.file_removed_reason == "deleted"
    assert first.file_removed_by_id == course.student.id
    assert first.file_removed_at == datetime(2025, 3, 3, 10, 0, tzinfo=UTC)
    assert stored_names(app) == {second.stored_name}
    assert client.get(f"/assignments/submissions/{first.id}/file").status_code == 404
    assert db.session.scalar(
        sa.select(sa.func.count()).where(
            AuditEvent.action == "assignment.draft_deleted", AuditEvent.subject_id == str(first.id)
        )
    )
    # There is room again.
    assert post_upload(client, URL + "/upload", samples.pdf("Third"), "third.pdf").status_code == 302


def test_a_student_cannot_delete_a_handed_in_version_or_another_students_draft(
    app, client, course, make_user
):
    version = rows.hand_in(course.student, course.assignment, now=T0)
    response = client.post(f"{URL}/drafts/{version.id}/delete")
    assert response.status_code == 422
    assert "handed-in versions are kept" in response.get_data(as_text=True)
    other = make_user(email="other@example.org")
    rows.enroll(other, course.track, T0)
    theirs = rows.upload(other, course.assignment, now=T0)
    assert client.post(f"{URL}/drafts/{theirs.id}/delete").status_code == 404
    assert client.post(f"{URL}/drafts/{theirs.id}/delete", csrf=False).status_code in {400, 422}
    assert all(s.file_removed_at is None for s in submissions())
    assert {version.stored_name, theirs.stored_name} <= stored_names(app)


@pytest.mark.app_config(DRAFT_RETENTION_DAYS=30)
def test_pruning_removes_only_drafts_replaced_longer_ago_than_the_retention(app, course):
    long = rows.make_assignment(course.track, "long", due_days=90, cutoff_days=None)
    old = rows.upload(course.student, long, name="old.pdf", now=T0)
    replaced_recently = rows.upload(course.student, long, name="mid.pdf", now=T0 + rows.days(1))
    current = rows.upload(course.student, long, name="now.pdf", now=T0 + rows.days(40))
    handed_in = operations.submit_draft(course.student, long, True, T0 + rows.days(40))
    assert handed_in.id == current.id

    # Day 40: "old" was replaced on day 1 (39 days ago); "mid" was replaced on day 40 (today).
    assert operations.prune_replaced_drafts(T0 + rows.days(40)) == 1
    by_id = {s.id: s for s in submissions()}
    assert by_id[old.id].file_removed_reason == "pruned" and by_id[old.id].file_removed_by_id is None
    assert by_id[replaced_recently.id].file_removed_at is None
    assert stored_names(app) == {by_id[replaced_recently.id].stored_name, by_id[current.id].stored_name}
    # Much later, the other replaced draft goes too; the submitted version never does.
    assert operations.prune_replaced_drafts(T0 + rows.days(400)) == 1
    assert operations.prune_replaced_drafts(T0 + rows.days(400)) == 0
    assert stored_names(app) == {by_id[current.id].stored_name}
    assert [s.state for s in submissions()] == ["replaced", "replaced", "submitted"]


def test_prune_drafts_command_reports_what_it_did(app, course):
    rows.upload(course.student, course.assignment, name="old.pdf", now=T0)
    rows.upload(course.student, course.assignment, name="new.pdf", now=T0 + rows.days(1))
    clock.freeze(T0 + rows.days(100))
    result = app.test_cli_runner().invoke(args=["lms", "prune-drafts"])
    assert result.exit_code == 0 and "Pruned 1 replaced draft(s)." in result.output


@pytest.mark.app_config(RATELIMIT_ENABLED=True, UPLOAD_LIMIT_PER_USER="2 per minute")
def test_uploads_are_rate_limited_per_student(app, client, course):
    from lms.extensions import limiter

    limiter.reset()
    assert post_upload(client, URL + "/upload", samples.pdf("1"), "a.pdf").status_code == 302
    assert post_upload(client, URL + "/upload", samples.pdf("2"), "b.pdf").status_code == 302
    assert post_upload(client, URL + "/upload", samples.pdf("3"), "c.pdf").status_code == 429
    assert len(submissions()) == 2


def test_the_operation_refuses_a_full_quota_before_writing(app, course, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_QUOTA_VERSIONS", 1)
    rows.upload(course.student, course.assignment, now=T0)
    written = []
    monkeypatch.setattr(storage, "store_stream", lambda *a, **k: written.append(a))
    with pytest.raises(DomainError, match="at most 1 upload or"):
        rows.upload(course.student, course.assignment, now=T0)
    assert written == []


@pytest.mark.app_config(UPLOAD_QUOTA_VERSIONS=1)
def test_a_quota_full_of_handed_in_versions_says_whom_to_ask(app, client, course):
    rows.hand_in(course.student, course.assignment, now=T0)
    response = post_upload(client, URL + "/upload", samples.pdf("Again"), "again.pdf")
    assert response.status_code == 422
    error = field_error(response.get_data(as_text=True), "file")
    assert "ask your instructor" in error and "Delete drafts" not in error
    assert "Stored drafts" not in response.get_data(as_text=True)

"""Students hand in the handbook: uploads by content, drafts and versions, due dates, cut-offs and extensions."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from lms import clock
from lms.accounts.models import Role
from lms.assignments import storage
from lms.assignments.models import Extension, Submission
from lms.audit import AuditEvent
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
    assignment = rows.make_assignment(track, due_days=21, cutoff_days=14)
    rows.enroll(student, track, T0)
    login(client, student)
    return SimpleNamespace(track=track, assignment=assignment, student=student)


def post_file(client, data: bytes, name: str = "handbook.pdf", url: str = URL):
    return post_upload(client, url + "/upload", data, name)


def submissions() -> list[Submission]:
    return list(db.session.execute(sa.select(Submission).order_by(Submission.id)).scalars())


def stored_files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


# ---- uploads -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "name", "expected"),
    [
        (samples.pdf, "handbook.pdf", "pdf"),
        (samples.docx, "handbook.docx", "docx"),
        (samples.pptx, "slides.pptx", "pptx"),
        (samples.odt, "handbook.odt", "odt"),
        (samples.markdown, "handbook.md", "md"),
        (samples.text, "handbook.txt", "txt"),
    ],
)
def test_each_accepted_format_is_kept_as_a_draft_with_size_hash_and_type(
    app, client, course, make, name, expected
):
    data = make()
    response = post_file(client, data, name)
    assert response.status_code == 302
    [submission] = submissions()
    assert submission.state == "draft"
    assert submission.detected_type == expected
    assert submission.size_bytes == len(data)
    assert submission.sha256 == hashlib.sha256(data).hexdigest()
    assert submission.original_name == name
    path = storage.path_for(submission.stored_name)
    assert path.read_bytes() == data
    assert name not in str(path)
    assert not path.is_relative_to(Path(app.static_folder))
    page = client.get(URL).get_data(as_text=True)
    assert "Your draft" in page and name in page


@pytest.mark.parametrize(
    ("make", "name", "message"),
    [
        (samples.windows_exe, "handbook.pdf", "a program (an executable)"),
        (samples.elf, "handbook.docx", "a program (an executable)"),
        (samples.html, "handbook.pdf", "a web page (HTML or XML)"),
        (lambda: b"", "handbook.pdf", "The file is empty."),
        (samples.plain_zip, "handbook.docx", "a ZIP archive, not a document"),
        (samples.pdf, "named-wrongly.txt", "This file is a PDF, not plain text"),  # name and content disagree
    ],
    ids=["renamed-exe", "renamed-elf", "html-named-pdf", "empty", "zip-named-docx", "pdf-named-txt"],
)
def test_refused_uploads_are_explained_beside_the_field_and_leave_nothing(
    app, client, course, make, name, message
):
    response = post_file(client, make(), name)
    assert response.status_code == 422
    error = field_error(response.get_data(as_text=True), "file")
    assert error is not None and message in error
    assert submissions() == []
    assert stored_files(app) == []


def test_a_format_the_assignment_does_not_list_is_refused(app, client, student, login):
    clock.freeze(T0)
    track = rows.make_track()
    rows.make_assignment(track, formats=("pdf",))
    rows.enroll(student, track, T0)
    login(client, student)
    response = post_file(client, samples.docx(), "handbook.docx")
    assert response.status_code == 422
    assert "does not accept Word (DOCX) files. Upload a PDF file." in field_error(
        response.get_data(as_text=True), "file"
    )
    assert submissions() == []


def test_choosing_no_file_asks_for_one(client, course):
    response = client.post(URL + "/upload", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "file") == "Choose the file to upload."


@pytest.mark.app_config(MAX_CONTENT_LENGTH=1024 * 1024 + 64 * 1024)
def test_an_upload_over_the_site_limit_gets_the_friendly_413_page(app, client, course):
    response = post_file(client, samples.pdf() + b"%" * (2 * 1024 * 1024))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "File too large" in page and "(1 MB)" in page
    assert "Nothing was saved from this upload" in page
    assert submissions() == [] and stored_files(app) == []


def test_an_upload_over_the_assignments_own_limit_gets_413_naming_that_limit(app, client, student, login):
    clock.freeze(T0)
    track = rows.make_track()
    rows.make_assignment(track, max_size_mb=1)
    rows.enroll(student, track, T0)
    login(client, student)
    response = post_file(client, samples.pdf() + b"%" * (1024 * 1024))
    assert response.status_code == 413
    assert "(1 MB)" in response.get_data(as_text=True)
    assert submissions() == [] and stored_files(app) == []


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../../../etc/cron.d/handbook.pdf", "handbook.pdf"),
        ("/var/www/lms/static/handbook.pdf", "handbook.pdf"),
        ("Стратегия 社交 (final).pdf", "Стратегия 社交 (final).pdf"),
        ("x" * 400 + ".pdf", "x" * 196 + ".pdf"),
    ],
    ids=["dot-dot", "absolute", "non-latin", "very-long"],
)
def test_hostile_file_names_never_decide_where_the_file_goes(app, client, course, name, shown):
    assert post_file(client, samples.pdf(), name).status_code == 302
    [submission] = submissions()
    assert submission.original_name == shown
    [path] = stored_files(app)
    assert path == storage.path_for(submission.stored_name)
    assert path.is_relative_to(Path(app.config["UPLOAD_DIR"]))
    download = client.get(f"/assignments/submissions/{submission.id}/file")
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "/" not in disposition and "\\" not in disposition and ".." not in disposition
    download.close()


def test_a_student_not_enrolled_in_the_track_cannot_upload(app, client, make_user, login, course):
    outsider = make_user(Role.STUDENT)
    login(client, outsider)
    response = post_file(client, samples.pdf())
    assert response.status_code == 422
    assert "Enrol in this track" in response.get_data(as_text=True)
    assert submissions() == []
    assert "Enrol in Social Media Strategist to hand in" in client.get(URL).get_data(as_text=True)


# ---- drafts, submitting, versions --------------------------------------------------------------------------


def submit(client, confirm: bool = True):
    return client.post(URL + "/submit", data={"confirm": "y"} if confirm else {})


def test_a_new_upload_replaces_the_draft_but_keeps_the_old_file(app, client, course):
    post_file(client, samples.pdf("first"), "first.pdf")
    post_file(client, samples.docx(), "second.docx")
    first, second = submissions()
    assert (first.state, second.state) == ("replaced", "draft")
    assert all(storage.path_for(s.stored_name).exists() for s in (first, second))


def test_submitting_needs_the_confirmation_box(client, course):
    post_file(client, samples.pdf())
    response = submit(client, confirm=False)
    assert response.status_code == 422
    assert "Tick the box to confirm" in response.get_data(as_text=True)
    assert submissions()[0].state == "draft"


def test_submitting_without_a_draft_says_to_upload_first(client, course):
    response = submit(client)
    assert response.status_code == 422
    assert "Upload your file first" in response.get_data(as_text=True)


def test_each_submission_becomes_a_numbered_version_and_the_history_keeps_all(app, client, course):
    post_file(client, samples.pdf("one"), "one.pdf")
    response = submit(client)
    assert response.status_code == 302
    clock.freeze(T0 + rows.days(1))
    post_file(client, samples.pdf("two"), "two.pdf")
    submit(client)
    first, second = submissions()
    # Not yet picked up by a grader: the newer version takes its place in the queue; both are kept.
    assert (first.state, first.version, second.state, second.version) == ("superseded", 1, "submitted", 2)
    assert first.submitted_at == T0 and second.submitted_at == T0 + rows.days(1)
    page = client.get(URL).get_data(as_text=True)
    assert "Version 1" in page and "Version 2" in page and "one.pdf" in page and "two.pdf" in page
    events = db.session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.id)).scalars().all()
    assert events.count("assignment.submitted") == 2 and events.count("assignment.uploaded") == 2


def test_no_new_version_while_the_previous_one_is_being_graded(client, course, instructor):
    post_file(client, samples.pdf())
    submit(client)
    rows.grade(instructor, submissions()[0], decision=None)
    assert post_file(client, samples.pdf("fix"), "fix.pdf").status_code == 302  # a draft is fine
    assert "You can submit this draft once the grade of version 1 is released." in client.get(URL).get_data(
        as_text=True
    )
    response = submit(client)
    assert response.status_code == 422
    assert "Your previous version is being graded" in response.get_data(as_text=True)
    assert [s.state for s in submissions()] == ["in_grading", "draft"]


def test_students_download_their_own_files_as_attachments(client, course):
    data = samples.markdown()
    post_file(client, data, "notes.md")
    [submission] = submissions()
    response = client.get(f"/assignments/submissions/{submission.id}/file")
    assert response.status_code == 200
    assert response.get_data() == data
    assert response.headers["Content-Disposition"] == "attachment; filename=notes.md"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.mimetype == "text/markdown"
    assert "no-store" in response.headers["Cache-Control"]


def test_another_students_work_is_not_found(app, client, course, make_user, login):
    other = make_user(Role.STUDENT)
    rows.enroll(other, course.track, T0)
    theirs = rows.hand_in(other, course.assignment)
    for url in (
        f"/assignments/submissions/{theirs.id}",
        f"/assignments/submissions/{theirs.id}/file",
        "/assignments/submissions/999999",
        "/assignments/submissions/999999/file",
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(
        f"/assignments/submissions/{theirs.id}/regrade", data={"reason": "Look again please"}
    )
    assert response.status_code == 404
    assert client.get("/assignments/strategist/nothing-here").status_code == 404


# ---- due dates, lateness, cut-off, extensions --------------------------------------------------------------


def test_on_time_submissions_are_not_late(client, course):
    clock.freeze(T0 + rows.days(21))  # exactly at the due time
    post_file(client, samples.pdf())
    submit(client)
    [submission] = submissions()
    assert submission.late_seconds == 0 and submission.due_at == T0 + rows.days(21)


def test_after_the_due_date_a_submission_is_marked_late_with_how_late(client, course):
    clock.freeze(T0 + rows.days(23) + rows.days(3 / 24))
    post_file(client, samples.pdf())
    page = client.get(URL).get_data(as_text=True)
    assert "this version will be marked late" in page
    response = submit(client, confirm=True)
    assert response.status_code == 302
    [submission] = submissions()
    assert submission.late_seconds == (2 * 24 + 3) * 3600
    assert "It is 2 days 3 hours late." in client.get(URL).get_data(as_text=True)
    assert "Late by 2 days 3 hours" in client.get(URL).get_data(as_text=True)


def test_after_the_cut_off_uploads_and_submissions_are_refused(app, client, course):
    clock.freeze(T0 + rows.days(30))
    post_file(client, samples.pdf())  # a draft before the cut-off
    clock.freeze(T0 + rows.days(35) + rows.days(1 / 24))
    response = post_file(client, samples.pdf("late"))
    assert response.status_code == 422
    assert "Uploads for this assignment closed on 07 Apr 2025, 09:00 UTC" in response.get_data(as_text=True)
    assert submit(client).status_code == 422
    assert [s.state for s in submissions()] == ["draft"]
    assert len(stored_files(app)) == 1
    assert "ask your instructor for an extension" in client.get(URL).get_data(as_text=True)


def grant(client, assignment, student, due: datetime, reason: str = "Illness, with a doctor's note."):
    return client.post(
        f"/grading/assignments/{assignment.id}/extensions",
        data={"student": str(student.id), "due_at": due.strftime("%Y-%m-%dT%H:%M"), "reason": reason},
    )


def test_an_extension_moves_the_due_date_and_the_cut_off_and_is_recorded(
    app, client, course, instructor, login
):
    login(client, instructor)
    new_due = T0 + rows.days(40)
    assert grant(client, course.assignment, course.student, new_due).status_code == 302
    extension = db.session.execute(sa.select(Extension)).scalar_one()
    assert (extension.due_at, extension.granted_by_id, extension.granted_at) == (new_due, instructor.id, T0)
    page = client.get(f"/grading/assignments/{course.assignment.id}/extensions").get_data(as_text=True)
    assert "Illness, with a doctor&#39;s note." in page and "Ingrid Instructor" in page

    login(client, course.student)
    clock.freeze(T0 + rows.days(38))  # past the normal cut-off (day 35), before the extended due date
    assert post_file(client, samples.pdf()).status_code == 302
    assert submit(client).status_code == 302
    [submission] = submissions()
    assert (submission.late_seconds, submission.due_at) == (0, new_due)
    clock.freeze(T0 + rows.days(55))  # extended cut-off: day 40 + 14
    assert "Uploads for this assignment closed" in post_file(client, samples.pdf()).get_data(as_text=True)


def test_an_extension_must_be_later_than_the_normal_due_date_and_give_a_reason(
    client, course, instructor, login
):
    login(client, instructor)
    response = grant(client, course.assignment, course.student, T0 + rows.days(20))
    assert response.status_code == 422
    assert "must be later than the normal due date" in field_error(response.get_data(as_text=True), "due_at")
    response = grant(client, course.assignment, course.student, T0 + rows.days(30), reason="")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "reason") == "Say why the extension is granted."
    assert db.session.execute(sa.select(Extension)).first() is None


def test_a_revision_after_a_return_is_not_held_to_the_cut_off(client, course, instructor):
    post_file(client, samples.pdf())
    submit(client)
    clock.freeze(T0 + rows.days(40))  # after the cut-off
    rows.grade(instructor, submissions()[0], level="weak", decision="revise", release=True)
    assert post_file(client, samples.pdf("improved")).status_code == 302
    assert submit(client).status_code == 302
    first, second = submissions()
    assert first.state == "returned"
    assert (second.state, second.version, second.is_revision, second.late_seconds) == (
        "submitted",
        2,
        True,
        0,
    )


def test_after_passing_there_is_nothing_more_to_upload(client, course, instructor):
    post_file(client, samples.pdf())
    submit(client)
    rows.grade(instructor, submissions()[0], release=True)
    response = post_file(client, samples.pdf())
    assert response.status_code == 422
    assert "You have passed this assignment" in response.get_data(as_text=True)
    assert "You have passed this assignment." in client.get(URL).get_data(as_text=True)


def test_the_dashboard_shows_the_students_assignment_status_and_due_date(client, course, instructor):
    page = client.get("/dashboard").get_data(as_text=True)
    assert (
        "Social Media Strategy Handbook" in page
        and "Not started" in page
        and "24 Mar 2025, 09:00 UTC" in page
    )
    post_file(client, samples.pdf())
    submit(client)
    assert "Being graded" in client.get("/dashboard").get_data(as_text=True) or "Submitted" in client.get(
        "/dashboard"
    ).get_data(as_text=True)
    rows.grade(instructor, submissions()[0], release=True)
    page = client.get("/dashboard").get_data(as_text=True)
    feedback = re.search(r'href="(/assignments/submissions/\d+)">See feedback', page)
    assert "Passed" in page and feedback is not None
    assert client.get(feedback.group(1)).status_code == 200

"""Feedback files: a grader attaches a file to a grade (a new version each time, with who and when), the student
downloads the newest once the grade is released and never before; and the bulk round trip through a zip, reviewed
before anything is attached, with anything unmatched reported and an unsafe zip refused."""

from __future__ import annotations

import io
import stat
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from lms import clock
from lms.accounts.models import Role
from lms.assignments import bulk_feedback, operations
from lms.assignments.models import FeedbackFile, Submission
from lms.audit import AuditEvent
from lms.extensions import db
from tests.fixtures.files import rows, samples
from tests.fixtures.files.uploads import post_upload
from tests.support import field_error

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def course(app, student, instructor, make_user):
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track, criteria=2)
    rows.enroll(student, track, T0)
    submission = rows.hand_in(student, assignment, samples.pdf("Stella"), "stella.pdf")
    other = make_user(Role.INSTRUCTOR, full_name="Olga Other")
    return SimpleNamespace(
        track=track,
        assignment=assignment,
        student=student,
        instructor=instructor,
        other=other,
        submission=submission,
    )


def reload(submission_id: int) -> Submission:
    db.session.expire_all()
    return db.session.get(Submission, submission_id)


def feedback_files() -> list[FeedbackFile]:
    db.session.expire_all()
    return list(db.session.execute(sa.select(FeedbackFile).order_by(FeedbackFile.id)).scalars())


def attach(client, submission_id: int, data: bytes, name: str):
    return post_upload(client, f"/grading/submissions/{submission_id}/feedback-files", data, name)


# ---- one file at a time -------------------------------------------------------------------------------------


def test_a_feedback_file_reaches_the_student_only_once_the_grade_is_released(client, login, course):
    sid = course.submission.id
    login(client, course.instructor)
    assert attach(client, sid, samples.pdf("Annotated v1"), "annotated.pdf").status_code == 302
    [first] = feedback_files()
    assert (first.version, first.uploaded_by_id, first.uploaded_at, first.detected_type) == (
        1,
        course.instructor.id,
        T0,
        "pdf",
    )
    assert reload(sid).state == "in_grading"  # attaching feedback picks the version up for grading
    clock.freeze(T0 + rows.days(1))
    login(client, course.other)
    assert attach(client, sid, samples.pdf("Annotated v2"), "annotated-2.pdf").status_code == 302
    first, second = feedback_files()
    assert (second.version, second.uploaded_by_id, second.uploaded_at) == (
        2,
        course.other.id,
        T0 + rows.days(1),
    )

    # Both versions are kept with the grade's history, who and when.
    page = client.get(f"/grading/submissions/{sid}").get_data(as_text=True)
    assert "annotated-2.pdf" in page and "annotated.pdf" in page and "(the one the student gets)" in page
    assert "Ingrid Instructor" in page and "Olga Other" in page
    actions = db.session.execute(
        sa.select(AuditEvent.action).where(AuditEvent.action == "assignment.feedback_file_attached")
    ).scalars()
    assert len(list(actions)) == 2

    # Before release the student learns nothing of it, not even by asking for the file directly.
    login(client, course.student)
    assert "feedback-files" not in client.get(f"/assignments/submissions/{sid}").get_data(as_text=True)
    for f in (first, second):
        assert client.get(f"/assignments/submissions/{sid}/feedback-files/{f.id}").status_code == 404

    rows.grade(course.instructor, reload(sid), level="sound", release=True)
    page = client.get(f"/assignments/submissions/{sid}").get_data(as_text=True)
    link = f"/assignments/submissions/{sid}/feedback-files/{second.id}"
    assert f'href="{link}">Download the feedback file</a>' in page
    download = client.get(link)
    assert download.status_code == 200 and download.get_data() == samples.pdf("Annotated v2")
    assert download.headers["Content-Disposition"] == "attachment; filename=annotated-2.pdf"
    assert (
        client.get(f"/assignments/submissions/{sid}/feedback-files/{first.id}").status_code == 404
    )  # old one

    # Staff may have every version.
    login(client, course.instructor)
    assert client.get(f"/assignments/submissions/{sid}/feedback-files/{first.id}").status_code == 200


def test_another_student_never_gets_a_feedback_file(client, login, course, make_user):
    rows.grade(course.instructor, course.submission, level="sound")
    login(client, course.instructor)
    attach(client, course.submission.id, samples.pdf("Notes"), "notes.pdf")
    rows.grade(course.instructor, reload(course.submission.id), level="sound", release=True)
    [feedback] = feedback_files()
    login(client, make_user(Role.STUDENT))
    url = f"/assignments/submissions/{course.submission.id}/feedback-files/{feedback.id}"
    assert client.get(url).status_code == 404


def test_no_feedback_file_once_released_or_for_a_version_not_waiting(client, login, course):
    sid = course.submission.id
    rows.grade(course.instructor, course.submission, level="sound", release=True)
    login(client, course.instructor)
    response = attach(client, sid, samples.pdf("Late notes"), "notes.pdf")
    assert response.status_code == 422
    assert "This grade is released. Its feedback can change only through an accepted regrade request." in (
        response.get_data(as_text=True)
    )
    assert feedback_files() == []
    assert "Attach feedback file" not in client.get(f"/grading/submissions/{sid}").get_data(as_text=True)


# ---- the zip round trip -------------------------------------------------------------------------------------


@pytest.fixture
def crowd(course, make_user):
    """Two more students: one waiting for a grade, one whose grade is released."""
    bob = make_user(Role.STUDENT, full_name="Bob Student")
    cat = make_user(Role.STUDENT, full_name="Cat Student")
    for user in (bob, cat):
        rows.enroll(user, course.track, T0)
    course.bob = rows.hand_in(bob, course.assignment, samples.docx(), "bob.docx")
    course.cat = rows.hand_in(cat, course.assignment, samples.pdf("Cat"), "cat.pdf")
    rows.grade(course.instructor, course.cat, level="sound", release=True)
    return course


def round_trip(downloaded: bytes, add: dict[str, bytes], drop_student_files: bool = False) -> bytes:
    """What a grader does with the downloaded zip: unpack it, add files, zip it again."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(downloaded)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if not drop_student_files and info.filename not in add:
                target.writestr(info.filename, source.read(info))
        for name, data in add.items():
            target.writestr(name, data)
    return out.getvalue()


def test_feedback_files_come_back_in_the_zip_reviewed_before_anything_is_attached(client, login, crowd):
    stella, bob, cat = crowd.submission, crowd.bob, crowd.cat
    login(client, crowd.instructor)
    downloaded = client.get(f"/grading/assignments/{crowd.assignment.id}/submissions.zip").get_data()
    folders = sorted({name.split("/")[0] for name in zipfile.ZipFile(io.BytesIO(downloaded)).namelist()})
    assert folders == sorted(
        [
            f"Stella Student - submission {stella.id}",
            f"Bob Student - submission {bob.id}",
            f"Cat Student - submission {cat.id}",
        ]
    )
    upload = round_trip(
        downloaded,
        {
            # An annotated copy saved over the student's own file, under the same name: that is feedback.
            f"Stella Student - submission {stella.id}/stella.pdf": samples.pdf("Stella, annotated"),
            f"Bob Student - submission {bob.id}/feedback.md": b"# Feedback\n\n- More sources.\n",
            f"Bob Student - submission {bob.id}/more.txt": b"A second file.",
            f"Cat Student - submission {cat.id}/late.pdf": samples.pdf("Too late"),
            "Dan Student - submission 999/dan.pdf": samples.pdf("Nobody"),
            "My notes/general.txt": b"Thoughts.",
            "stray.pdf": samples.pdf("Stray"),
            "__MACOSX/._stray.pdf": b"junk",
        },
    )

    response = post_upload(
        client, f"/grading/assignments/{crowd.assignment.id}/feedback-zip", upload, "back.zip"
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert feedback_files() == []  # nothing is attached before the confirmation
    assert "1 feedback file will be attached" in page
    assert f"<td>Stella Student - submission {stella.id}</td><td>Stella Student</td><td>stella.pdf" in page
    problems = page[page.index("data-problems") :]
    assert "2 files (“more.txt”, “feedback.md”): keep one feedback file in each folder." in problems or (
        "2 files (“feedback.md”, “more.txt”): keep one feedback file in each folder." in problems
    )
    assert "This grade is released." in problems
    assert "There is no submission 999 in this assignment." in problems
    assert "The folder&#39;s name does not end with a submission number" in problems
    assert "<strong>stray.pdf</strong>: Not in a student&#39;s folder" in problems
    assert "__MACOSX" not in problems

    token = field_value(page, "token")
    response = client.post(
        f"/grading/assignments/{crowd.assignment.id}/feedback-zip/confirm", data={"token": token}
    )
    assert response.status_code == 302
    [attached] = feedback_files()
    assert (attached.submission_id, attached.source, attached.original_name) == (
        stella.id,
        "zip",
        "stella.pdf",
    )
    assert reload(stella.id).state == "in_grading"
    # The zip was used up: confirming again attaches nothing more.
    client.post(f"/grading/assignments/{crowd.assignment.id}/feedback-zip/confirm", data={"token": token})
    assert len(feedback_files()) == 1
    assert not list(bulk_feedback.staging_dir().rglob("*.zip")) and not [
        p for p in bulk_feedback.staging_dir().rglob("*") if p.is_file()
    ]


def test_an_untouched_zip_attaches_nothing(client, login, crowd):
    login(client, crowd.instructor)
    downloaded = client.get(f"/grading/assignments/{crowd.assignment.id}/submissions.zip").get_data()
    response = post_upload(
        client, f"/grading/assignments/{crowd.assignment.id}/feedback-zip", downloaded, "same.zip"
    )
    page = response.get_data(as_text=True)
    assert "Nothing in this zip can be attached." in page
    assert "3 folders held only the student's own file, unchanged" in page
    assert "data-problems" not in page  # Cat's grade is released, but nothing was added there: nothing to say


def field_value(page: str, name: str) -> str:
    import re

    match = re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page) or re.search(
        rf'type="hidden" name="{name}" value="([^"]+)"', page
    )
    assert match, name
    return match.group(1)


def zip_of(entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info, data in entries:
            archive.writestr(info, data)
    return out.getvalue()


def symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


UNSAFE = [
    (lambda sid: zip_of([("/etc/submission 1/x.pdf", samples.pdf())]), "has an absolute path"),
    (lambda sid: zip_of([("C:\\feedback\\x.pdf", samples.pdf())]), "has an absolute path"),
    (lambda sid: zip_of([(f"submission {sid}/../../x.pdf", samples.pdf())]), "points outside the zip"),
    (lambda sid: zip_of([(symlink(f"submission {sid}/x.pdf"), b"/etc/passwd")]), "is a link"),
    (lambda sid: samples.pdf(), "not a zip archive we can read"),
    (lambda sid: zip_of([(f"f{n}/x.txt", b"x") for n in range(6)]), "holds 6 entries; at most 5"),
    (lambda sid: zip_of([(f"submission {sid}/big.txt", b"x" * 5000)]), "unpacks to 0 MB; at most 0 MB"),
]


@pytest.mark.parametrize(
    ("make", "message"), UNSAFE, ids=["absolute", "drive", "dot-dot", "link", "not-zip", "entries", "bytes"]
)
def test_an_unsafe_zip_is_refused_before_anything_in_it_is_read(
    app, client, login, course, monkeypatch, make, message
):
    monkeypatch.setattr(bulk_feedback, "MAX_ENTRIES", 5)
    monkeypatch.setattr(bulk_feedback, "MAX_UNPACKED_BYTES", 4096)
    uploads = Path(app.config["UPLOAD_DIR"])
    before = sorted(p for p in uploads.rglob("*") if p.is_file())
    login(client, course.instructor)
    response = post_upload(
        client,
        f"/grading/assignments/{course.assignment.id}/feedback-zip",
        make(course.submission.id),
        "x.zip",
    )
    assert response.status_code == 422
    assert message in field_error(response.get_data(as_text=True), "file")
    assert feedback_files() == []
    assert sorted(p for p in uploads.rglob("*") if p.is_file()) == before  # nothing kept, nothing extracted


def test_a_forged_or_unknown_token_attaches_nothing(client, login, course):
    login(client, course.instructor)
    url = f"/grading/assignments/{course.assignment.id}/feedback-zip/confirm"
    for token in ("../../../etc/passwd", "0" * 32, ""):
        response = client.post(url, data={"token": token})
        assert response.status_code == 302 and response.location.endswith("/feedback-zip")
    assert feedback_files() == []


def test_the_operation_matches_by_number_and_never_guesses(course):
    """Straight through the operations: a folder named after the student but without the number matches nothing."""
    upload = zip_of([("Stella Student/notes.pdf", samples.pdf("Notes"))])
    review = operations.stage_feedback_zip(course.assignment, io.BytesIO(upload))
    assert review.matches == []
    assert [p.where for p in review.problems] == ["Stella Student/notes.pdf"]

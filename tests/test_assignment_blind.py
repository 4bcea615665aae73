"""Blind marking hides the student everywhere staff can go until the grade is released, earlier versions included:
version 1 returned for revision must not name the student whose version 2 waits for a grade."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest

from lms import clock
from lms.accounts.models import Role
from lms.assignments import operations
from lms.assignments.models import Submission
from lms.extensions import db
from tests.fixtures.files import rows, samples
from tests.fixtures.files.uploads import post_upload
from tests.test_gradebook import cell, cells, read_csv

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
NAME, EMAIL = "Bartholomew Blindly", "bart.blindly@example.org"
# Anything that would tell a grader who this is: the name, its parts, the email, the file names the student chose.
CLUES = ("Bartholomew", "Blindly", "bart.blindly", "bart-v1", "bart-v2")
STAFF_PATHS = re.compile(r"^/(grading|assignments/submissions)(/|$)")
# The one staff page that must name students: granting an extension means choosing who. It shows no submission.
NAMES_STUDENTS = re.compile(r"^/grading/assignments/\d+/extensions$")


@pytest.fixture
def blind(app, make_user, instructor):
    """Version 1 returned for revision (its release would reveal the name), version 2 waiting for a grade."""
    clock.freeze(T0)
    track = rows.make_track("manager", "Social Media Manager")
    assignment = rows.make_assignment(track, "playbook", criteria=2, blind=True)
    student = make_user(Role.STUDENT, email=EMAIL, full_name=NAME)
    rows.enroll(student, track, T0)
    first = rows.hand_in(student, assignment, samples.pdf("v1"), "bart-v1.pdf")
    rows.grade(instructor, first, level="weak", decision="revise", release=True, comment="Thin.")
    clock.freeze(T0 + rows.days(2))
    second = rows.hand_in(student, assignment, samples.docx(), "bart-v2.docx")
    rows.grade(instructor, db.session.get(Submission, second.id), level="sound", decision=None)
    return SimpleNamespace(
        track=track, assignment=assignment, student=student, first=first, second=second, instructor=instructor
    )


def assert_anonymous(where: str, text: str) -> None:
    for clue in CLUES:
        assert clue.lower() not in text.lower(), f"{where} shows {clue!r}"


def links(html: str) -> set[str]:
    found = set()
    for url in re.findall(r'(?:href|src)="([^"]+)"', html):
        path = urlsplit(url.replace("&amp;", "&"))
        if STAFF_PATHS.match(path.path) and not NAMES_STUDENTS.match(path.path):
            found.add(path.path + (f"?{path.query}" if path.query else ""))
    return found


def walk(client, start: list[str]) -> dict[str, object]:
    """Every staff page and file reachable by links from `start`, fetched once each."""
    seen: dict[str, object] = {}
    todo = list(start)
    while todo:
        url = todo.pop()
        if url in seen:
            continue
        response = client.get(url)
        assert response.status_code == 200, url
        seen[url] = response
        if response.mimetype == "text/html":
            todo.extend(links(response.get_data(as_text=True)) - set(seen))
    return seen


def test_every_staff_page_of_a_blind_submission_shows_only_its_number(client, login, blind):
    login(client, blind.instructor)
    first, second = blind.first.id, blind.second.id
    start = [
        "/grading",
        "/grading?state=all",
        "/grading?state=returned",
        "/grading?state=in_grading",
        f"/grading/submissions/{second}",
        f"/grading/submissions/{second}?state=all",
        f"/assignments/submissions/{first}",
        f"/assignments/submissions/{second}",
    ]
    pages = walk(client, start)
    # The walk reached both versions' grading pages, their files and previews, through the links staff follow.
    for expected in (
        f"/grading/submissions/{first}?state=all",
        f"/assignments/submissions/{first}/file",
        f"/assignments/submissions/{second}/file",
        f"/grading/submissions/{first}/preview",
        f"/grading/submissions/{first}/first-page.png",
    ):
        assert expected in pages, expected
    for url, response in pages.items():
        assert_anonymous(url, " ".join(f"{k}: {v}" for k, v in response.headers.items()))
        if response.mimetype in {"text/html", "text/plain", "text/markdown"}:
            assert_anonymous(url, response.get_data(as_text=True))
        response.close()

    grading = pages[f"/grading/submissions/{first}?state=all"].get_data(as_text=True)
    assert (
        f"<title>Grade Submission {first}" in grading
        and "Blind marking: the name shows after release" in grading
    )
    download = client.get(f"/assignments/submissions/{first}/file")
    assert download.headers["Content-Disposition"] == f"attachment; filename=submission-{first}.pdf"
    download.close()

    # The zip of latest versions: one folder per student, named by number.
    archive = client.get(f"/grading/assignments/{blind.assignment.id}/submissions.zip")
    names = zipfile.ZipFile(io.BytesIO(archive.get_data())).namelist()
    assert names == [f"submission {second}/submission-{second}.docx"]

    # The bulk feedback review names the submission the same way.
    feedback = io.BytesIO()
    with zipfile.ZipFile(feedback, "w") as out:
        out.writestr(f"submission {second}/notes.pdf", samples.pdf("Notes"))
    review = post_upload(
        client, f"/grading/assignments/{blind.assignment.id}/feedback-zip", feedback.getvalue(), "back.zip"
    )
    assert review.status_code == 200
    assert f"<td>Submission {second}</td>" in review.get_data(as_text=True)
    assert_anonymous("feedback zip review", review.get_data(as_text=True))

    # The gradebook lists the enrolled students (it is the roster), but does not tie them to the work.
    book = client.get("/gradebook/manager").get_data(as_text=True)
    row = cells(book, blind.student.id)
    assert cell(row, "data-handbook") == "Submitted"
    assert "/grading/submissions/" not in row and f"#{first}" not in row and f"#{second}" not in row
    table = read_csv(client.get("/gradebook/manager.csv"))
    handbook = table[0].index(blind.assignment.title)
    [line] = [line for line in table[1:] if line[0] == NAME]
    assert line[handbook : handbook + 2] == ["Submitted", ""]


def test_once_the_latest_version_is_released_staff_see_the_name_on_every_version(client, login, blind):
    rows.grade(
        blind.instructor,
        db.session.get(Submission, blind.second.id),
        level="sound",
        decision="pass",
        release=True,
    )
    login(client, blind.instructor)
    for submission_id in (blind.first.id, blind.second.id):
        assert NAME in client.get(f"/grading/submissions/{submission_id}").get_data(as_text=True)
    assert NAME in client.get("/grading?state=all").get_data(as_text=True)
    download = client.get(f"/assignments/submissions/{blind.first.id}/file")
    assert download.headers["Content-Disposition"] == "attachment; filename=bart-v1.pdf"
    download.close()


def test_the_rule_in_sql_and_in_python_agree(blind):
    rows_ = operations.queue_page("", "all", "", 1, 50)[0]
    hidden = {submission.id: name_hidden for submission, *_, name_hidden in rows_}
    for submission in (blind.first, blind.second):
        found = db.session.get(Submission, submission.id)
        assert hidden[submission.id] is (not operations.grader_sees_name(found))
    assert hidden == {blind.first.id: True, blind.second.id: True}


def test_the_strategist_handbook_is_marked_blind_like_the_manager_playbook():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "courses"
    for track in ("social-media-strategist", "social-media-manager"):
        table = tomllib.loads((root / track / "track.toml").read_text(encoding="utf-8"))["assignment"]
        assert table["blind_marking"] is True, track

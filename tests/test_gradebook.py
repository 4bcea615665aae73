"""The instructor gradebook: what each cell says for a small cohort, blind marking, search, sort, pages, CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest

from lms import clock
from lms.certificates import operations as certificates
from lms.courses.models import Enrollment
from lms.extensions import db
from lms.quizzes.models import IN_PROGRESS, Attempt
from tests.fixtures.files import rows
from tests.support import recorded_statements
from tests.test_gradebook_support import (
    add_attempt,
    complete,
    lessons_of,
    make_quiz,
    make_track,
    quick_user,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def cells(html: str, student_id: int) -> str:
    """The HTML of one student's row."""
    match = re.search(rf'<tr data-student="{student_id}">(.*?)</tr>', html, re.S)
    assert match, f"no row for student {student_id}"
    return match.group(1)


def cell(row_html: str, marker: str) -> str:
    """The text of one cell of a row (its tags removed, spaces squeezed)."""
    match = re.search(rf"<td[^>]*{marker}[^>]*>(.*?)</td>", row_html, re.S)
    assert match, f"no cell {marker}"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split())


def student_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr data-student="(\d+)">', html)]


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8"))))


@pytest.fixture
def cohort(app, make_user, instructor):
    """Four students of one track, each standing somewhere different (see each test)."""
    clock.freeze(NOW)
    track = make_track("cohort")
    lessons = lessons_of(track)
    retired = lessons[-1]
    retired.retired_at = NOW - timedelta(days=1)  # completed by Alice, but no longer counts
    db.session.commit()
    # Created out of order: the table lists module quizzes by module position, then the final exam.
    final = make_quiz(track, "final-exam", title="Final exam")
    second = make_quiz(track, "alpha-quiz", "m2", grading="last", title="Second quiz")
    first = make_quiz(track, "zeta-quiz", "m1", grading="highest", title="First quiz")
    assignment = rows.make_assignment(track, "handbook", criteria=2)

    alice = make_user(full_name="Alice Archer", email="alice@example.org")
    bob = make_user(full_name="Bob Baker", email="bob@example.org")
    cara = make_user(full_name="=Cara Cole", email="cara@example.org")
    dan = make_user(full_name="Dan Dropped", email="dan@example.org")
    rows.enroll(alice, track, NOW - timedelta(days=30))
    rows.enroll(bob, track, NOW - timedelta(days=10))
    rows.enroll(cara, track, NOW - timedelta(days=22))
    left = rows.enroll(dan, track, NOW - timedelta(days=40))
    left.left_at = NOW - timedelta(days=5)
    db.session.commit()

    complete(alice, lessons)  # every live lesson (3) and the retired one
    complete(bob, lessons[:1])

    add_attempt(alice, first, 80.0, started=NOW - timedelta(days=3))
    add_attempt(alice, first, 50.0, started=NOW - timedelta(days=2))  # highest counts: 80, passed
    add_attempt(alice, second, 90.0, started=NOW - timedelta(days=3))
    add_attempt(alice, second, 40.0, started=NOW - timedelta(days=2))  # last counts: 40, not passed
    add_attempt(alice, final, None, started=NOW - timedelta(minutes=2))  # in progress, time left
    add_attempt(bob, second, None, started=NOW - timedelta(hours=2))  # in progress, time ran out long ago

    submission = rows.hand_in(alice, assignment, now=NOW - timedelta(days=10))
    rows.grade(instructor, submission, decision="pass", release=True)
    rows.upload(bob, assignment, now=NOW - timedelta(days=1))
    late = rows.hand_in(cara, assignment, now=NOW)  # due 21 days after enrolment: one day late

    certificates.issue_certificate(alice, track, instructor, "Completed the track.")
    revoked = certificates.issue_certificate(bob, track, instructor, "Issued by mistake.")
    certificates.revoke_certificate(revoked, instructor, "Issued by mistake.")
    clock.freeze(NOW - timedelta(days=800))
    expired = certificates.issue_certificate(cara, track, instructor, "An earlier cohort.")
    clock.freeze(NOW)
    return {
        "track": track, "alice": alice, "bob": bob, "cara": cara, "dan": dan, "assignment": assignment,
        "alice_submission": submission, "cara_submission": late, "expired": expired, "revoked": revoked,
    }  # fmt: skip


def test_tracks_list_counts_active_students_and_links_to_each_gradebook(client, login, instructor, cohort):
    make_track("empty-track", modules=1, lessons=1)
    login(client, instructor)
    html = client.get("/gradebook").get_data(as_text=True)
    assert re.search(r'href="/gradebook/cohort">Cohort Track</a>.*?data-students>3<', html, re.S)
    assert re.search(r'href="/gradebook/empty-track">.*?data-students>0<', html, re.S)
    assert 'href="/gradebook"' in client.get("/dashboard").get_data(as_text=True)  # in the menu


def test_each_cell_shows_the_students_standing(client, login, instructor, cohort):
    login(client, instructor)
    response = client.get("/gradebook/cohort")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # Columns: the module quizzes in module order, then the final exam.
    assert html.index("First quiz") < html.index("Second quiz") < html.index("Final exam")
    assert student_ids(html) == [
        cohort["cara"].id,
        cohort["alice"].id,
        cohort["bob"].id,
    ]  # by name; "=" first
    assert cohort["dan"].id not in student_ids(html)

    alice = cells(html, cohort["alice"].id)
    assert "2026-02-08" in alice  # enrolled 30 days before
    assert cell(alice, "data-lessons") == "3 of 3 100%"
    assert '<progress max="3" value="3"' in alice
    assert cell(alice, 'data-quiz="zeta-quiz"') == "80% Passed"
    assert cell(alice, 'data-quiz="alpha-quiz"') == "40% Not passed yet"
    assert cell(alice, 'data-quiz="final-exam"') == "In progress"
    assert cell(alice, "data-handbook") == "Passed"
    assert f'href="/grading/submissions/{cohort["alice_submission"].id}"' in alice
    certificate = certificates.active_certificate(cohort["alice"].id, cohort["track"].id)
    assert cell(alice, "data-certificate") == f"Valid {certificate.display_code}"
    assert f'href="/verify/{certificate.display_code}"' in alice

    bob = cells(html, cohort["bob"].id)
    assert cell(bob, "data-lessons") == "1 of 3 33%"
    assert cell(bob, 'data-quiz="zeta-quiz"') == "Not started"
    assert cell(bob, 'data-quiz="alpha-quiz"') == "In progress (overdue)"
    assert cell(bob, "data-handbook") == "Draft"
    assert cell(bob, "data-certificate") == f"Revoked {cohort['revoked'].display_code}"

    cara = cells(html, cohort["cara"].id)
    assert cell(cara, "data-lessons") == "0 of 3 0%"
    assert cell(cara, "data-handbook") == "Submitted Late"
    assert f'href="/grading/submissions/{cohort["cara_submission"].id}"' in cara
    assert cell(cara, "data-certificate") == f"Expired {cohort['expired'].display_code}"


def test_a_kept_gradebook_shows_an_attempt_becoming_overdue_with_no_write(client, login, instructor, cohort):
    """The page is kept (lms.accounts.kept_pages) until the first moment a cell changes with the time alone: Alice's final
    exam, in progress with time left, is shown overdue once its cut-off has passed, though nothing was written."""
    login(client, instructor)

    def final_exam() -> str:
        return cell(cells(client.get("/gradebook/cohort").get_data(as_text=True), cohort["alice"].id),
                    'data-quiz="final-exam"')  # fmt: skip

    assert final_exam() == "In progress"
    with recorded_statements() as statements:
        assert final_exam() == "In progress"
    # Kept: the signed-in account and the stamps (at most the loader's statement besides), not the ten of a page.
    assert len(statements) <= 2, f"the gradebook was not kept: {len(statements)} statements"
    clock.freeze(NOW + timedelta(days=1))
    assert final_exam() == "In progress (overdue)"


def test_the_gradebook_only_reads(client, login, instructor, cohort):
    """The overdue attempt is shown, not finalized: the page commits nothing."""
    login(client, instructor)
    assert client.get("/gradebook/cohort").status_code == 200
    assert client.get("/gradebook/cohort.csv").status_code == 200
    overdue = db.session.execute(db.select(Attempt).where(Attempt.user_id == cohort["bob"].id)).scalar_one()
    assert overdue.state == IN_PROGRESS and overdue.submitted_at is None


def test_students_who_left_are_shown_on_request(client, login, admin, cohort):
    login(client, admin)
    html = client.get("/gradebook/cohort?left=1").get_data(as_text=True)
    assert cohort["dan"].id in student_ids(html)
    assert "Left 2026-03-05" in re.sub(r"<[^>]+>", "", cells(html, cohort["dan"].id))  # a <time> element
    assert 'name="left" value="1" checked' in html


def test_unknown_track_is_404(client, login, instructor, app):
    login(client, instructor)
    assert client.get("/gradebook/no-such-track").status_code == 404
    assert client.get("/gradebook/no-such-track.csv").status_code == 404


def test_blind_marking_hides_unreleased_work(client, login, instructor, app):
    clock.freeze(NOW)
    track = make_track("blind")
    assignment = rows.make_assignment(track, "handbook", criteria=2, blind=True)
    waiting, grading, released = (quick_user(n, f"Blind Student {n}") for n in (1, 2, 3))
    db.session.commit()
    for user in (waiting, grading, released):
        rows.enroll(user, track, NOW - timedelta(days=25))
    late = rows.hand_in(waiting, assignment, now=NOW)  # late: would be a clue in the queue
    graded = rows.hand_in(grading, assignment, now=NOW - timedelta(days=10))
    rows.grade(instructor, graded, decision="revise")  # graded, not released
    done = rows.hand_in(released, assignment, now=NOW - timedelta(days=10))
    rows.grade(instructor, done, decision="pass", release=True)

    login(client, instructor)
    html = client.get("/gradebook/blind").get_data(as_text=True)
    assert "marked blind" in html
    for user, submission in ((waiting, late), (grading, graded)):
        row = cells(html, user.id)
        assert cell(row, "data-handbook") == "Submitted"
        assert "/grading/submissions/" not in row
        assert f"#{submission.id}" not in row
    assert f'href="/grading/submissions/{done.id}"' in cells(html, released.id)
    assert cell(cells(html, released.id), "data-handbook") == "Passed"
    assert "Late" not in cell(cells(html, waiting.id), "data-handbook")
    assert "Graded" not in html

    table = read_csv(client.get("/gradebook/blind.csv"))
    handbook = table[0].index(assignment.title)
    by_name = {line[0]: line for line in table[1:]}
    assert by_name["Blind Student 1"][handbook : handbook + 2] == ["Submitted", ""]
    assert by_name["Blind Student 2"][handbook : handbook + 2] == ["Submitted", ""]
    assert by_name["Blind Student 3"][handbook] == "Passed"


def test_without_blind_marking_the_grading_state_shows(client, login, instructor, app):
    clock.freeze(NOW)
    track = make_track("open")
    assignment = rows.make_assignment(track, "handbook", criteria=2)
    student = quick_user(1)
    db.session.commit()
    rows.enroll(student, track, NOW - timedelta(days=5))
    submission = rows.hand_in(student, assignment, now=NOW)
    rows.grade(instructor, submission, decision="revise")
    login(client, instructor)
    row = cells(client.get("/gradebook/open").get_data(as_text=True), student.id)
    assert cell(row, "data-handbook") == "Graded"
    rows.grade(instructor, submission, decision="revise", release=True)
    row = cells(client.get("/gradebook/open").get_data(as_text=True), student.id)
    assert cell(row, "data-handbook") == "Returned for revision"


def test_search_by_name_or_email(client, login, instructor, cohort):
    login(client, instructor)
    html = client.get("/gradebook/cohort?q=ALICE").get_data(as_text=True)
    assert student_ids(html) == [cohort["alice"].id]
    html = client.get("/gradebook/cohort?q=bob@example").get_data(as_text=True)
    assert student_ids(html) == [cohort["bob"].id]
    html = client.get("/gradebook/cohort?q=%25").get_data(as_text=True)  # a literal %, not a wildcard
    assert student_ids(html) == []
    assert "No students here match" in html
    assert 'value="%"' in html


def test_sort_by_progress_and_name(client, login, instructor, cohort):
    login(client, instructor)
    alice, bob, cara = cohort["alice"].id, cohort["bob"].id, cohort["cara"].id
    assert student_ids(client.get("/gradebook/cohort?sort=progress").get_data(as_text=True)) == [
        alice,
        bob,
        cara,
    ]
    html = client.get("/gradebook/cohort?sort=progress&order=asc").get_data(as_text=True)
    assert student_ids(html) == [cara, bob, alice]
    assert student_ids(client.get("/gradebook/cohort?sort=name&order=desc").get_data(as_text=True)) == [
        bob, alice, cara,
    ]  # fmt: skip
    # Nonsense falls back to the default order, never an error.
    html = client.get("/gradebook/cohort?sort=password&order=sideways&page=x").get_data(as_text=True)
    assert student_ids(html) == [cara, alice, bob]


def test_pages_of_fifty(client, login, instructor, app):
    track = make_track("big", modules=1, lessons=2)
    lessons = lessons_of(track)
    users = [quick_user(n) for n in range(1, 56)]
    db.session.commit()
    for n, user in enumerate(users):
        db.session.add(Enrollment(user_id=user.id, track_id=track.id))
        if n % 5 == 0:
            complete(user, lessons)
    db.session.commit()
    login(client, instructor)
    first = client.get("/gradebook/big").get_data(as_text=True)
    assert len(student_ids(first)) == 50 and "Page 1 of 2" in first
    assert 'href="/gradebook/big?page=2&amp;sort=name&amp;order=asc"' in first
    second = client.get("/gradebook/big?page=2").get_data(as_text=True)
    assert student_ids(second) == [u.id for u in users[50:]]
    assert set(student_ids(first)) | set(student_ids(second)) == {u.id for u in users}
    # A page past the end shows the last one.
    assert student_ids(client.get("/gradebook/big?page=99").get_data(as_text=True)) == student_ids(second)
    by_progress = student_ids(client.get("/gradebook/big?sort=progress").get_data(as_text=True))
    assert by_progress[:11] == [u.id for n, u in enumerate(users) if n % 5 == 0]
    # The CSV has every row, not one page.
    assert len(read_csv(client.get("/gradebook/big.csv"))) == 56


def test_csv_holds_the_table_with_formulas_defused(client, login, instructor, cohort):
    login(client, instructor)
    response = client.get("/gradebook/cohort.csv?sort=name")
    assert "attachment" in response.headers["Content-Disposition"]
    table = read_csv(response)
    assert table[0] == [
        "Name", "Email", "Enrolled", "Left", "Lessons completed", "Lessons total", "Progress %",
        "First quiz %", "First quiz status", "Second quiz %", "Second quiz status", "Final exam %",
        "Final exam status", "Social Media Strategy Handbook", "Social Media Strategy Handbook late",
        "Certificate", "Certificate code",
    ]  # fmt: skip
    assert [line[0] for line in table[1:]] == ["'=Cara Cole", "Alice Archer", "Bob Baker"]
    alice = table[2]
    code = certificates.active_certificate(cohort["alice"].id, cohort["track"].id).display_code
    assert alice == [
        "Alice Archer", "alice@example.org", "2026-02-08", "", "3", "3", "100", "80", "Passed", "40",
        "Not passed yet", "", "In progress", "Passed", "", "Valid", code,
    ]  # fmt: skip
    cara = table[1]
    assert cara[13:15] == ["Submitted", "yes"]
    bob = table[3]
    assert bob[9:11] == ["", "In progress (overdue)"]
    # Every cell that starts like a formula is prefixed with a quote.
    for line in table:
        for value in line:
            assert not value.startswith(("=", "+", "-", "@")), value


@pytest.mark.parametrize("name", ["+SUM(A1)", "-2+3", "@cmd", '=HYPERLINK("x")'])
def test_csv_defuses_each_formula_start(client, login, instructor, app, name):
    track = make_track("formula", modules=1, lessons=1)
    user = quick_user(1, full_name=name)
    db.session.commit()
    rows.enroll(user, track)
    login(client, instructor)
    table = read_csv(client.get("/gradebook/formula.csv"))
    assert table[1][0] == "'" + name


def test_csv_filters_like_the_page(client, login, instructor, cohort):
    login(client, instructor)
    table = read_csv(client.get("/gradebook/cohort.csv?q=bob"))
    assert [line[1] for line in table[1:]] == ["bob@example.org"]
    table = read_csv(client.get("/gradebook/cohort.csv?left=1"))
    assert "dan@example.org" in [line[1] for line in table[1:]]
    assert [line[3] for line in table[1:] if line[1] == "dan@example.org"] == ["2026-03-05"]

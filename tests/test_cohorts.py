"""Cohorts: an assignment's due date may count from the student's cohort start instead of their enrolment."""

from __future__ import annotations

import csv
import io
import tomllib
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from lms import clock
from lms.assignments import loader, operations
from lms.assignments.models import Assignment, Extension
from lms.audit import AuditEvent
from lms.content import ContentSet
from lms.courses.models import Cohort, Enrollment
from lms.extensions import db
from tests.fixtures.files import rows
from tests.test_assignments_loader import check_modified

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # the student enrols
START = datetime(2025, 3, 17, 0, 0, tzinfo=UTC)  # the cohort starts two weeks later
URL = "/assignments/strategist/handbook"


@pytest.fixture
def course(app, student):
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track, due_days=21, cutoff_days=14)
    assignment.due_from = "cohort"
    enrollment = rows.enroll(student, track, T0)
    cohort = Cohort(track_id=track.id, name="Spring 2025", starts_at=START)
    db.session.add(cohort)
    db.session.commit()
    return type(
        "Course", (), {"track": track, "assignment": assignment, "enrollment": enrollment, "cohort": cohort}
    )


def join(enrollment: Enrollment, cohort: Cohort) -> None:
    enrollment.cohort_id = cohort.id
    db.session.commit()
    db.session.expire_all()


def test_the_due_date_counts_from_the_cohort_start(course, student):
    join(course.enrollment, course.cohort)
    deadlines = operations.student_deadlines(student.id, course.assignment)
    assert deadlines.due_at == START + rows.days(21)
    assert deadlines.cutoff_at == START + rows.days(35)
    assert (deadlines.counted_from, deadlines.no_cohort) == ("cohort", False)


def test_an_enrolment_assignment_ignores_the_cohort(course, student):
    course.assignment.due_from = "enrolment"
    db.session.commit()
    join(course.enrollment, course.cohort)
    deadlines = operations.student_deadlines(student.id, course.assignment)
    assert deadlines.due_at == T0 + rows.days(21)
    assert deadlines.counted_from == "enrolment" and not deadlines.no_cohort


def test_without_a_cohort_the_due_date_falls_back_to_enrolment_and_the_page_says_so(
    course, student, client, login
):
    deadlines = operations.student_deadlines(student.id, course.assignment)
    assert deadlines.due_at == T0 + rows.days(21)
    assert deadlines.no_cohort
    login(client, student)
    page = client.get(URL).get_data(as_text=True)
    assert "Counted from your enrolment: you are not in a cohort." in page
    assert "24 Mar 2025" in page  # T0 + 21 days

    join(course.enrollment, course.cohort)
    page = client.get(URL).get_data(as_text=True)
    assert "you are not in a cohort" not in page
    assert "Counted from your cohort's start." in page
    assert "07 Apr 2025" in page  # START + 21 days


def test_an_extension_applies_on_top_of_a_cohort_due_date(course, student, instructor, client, login):
    join(course.enrollment, course.cohort)
    login(client, instructor)
    url = f"/grading/assignments/{course.assignment.id}/extensions"
    # Later than the enrolment due date but not than the cohort's: refused against the cohort date.
    too_early = T0 + rows.days(25)
    response = client.post(
        url,
        data={"student": str(student.id), "due_at": too_early.strftime("%Y-%m-%dT%H:%M"), "reason": "Ill."},
    )
    assert response.status_code == 422
    assert "07 Apr 2025, 00:00 UTC" in response.get_data(as_text=True)
    new_due = START + rows.days(30)
    response = client.post(
        url, data={"student": str(student.id), "due_at": new_due.strftime("%Y-%m-%dT%H:%M"), "reason": "Ill."}
    )
    assert response.status_code == 302
    assert db.session.execute(sa.select(sa.func.count()).select_from(Extension)).scalar_one() == 1
    deadlines = operations.student_deadlines(student.id, course.assignment)
    assert (deadlines.due_at, deadlines.base_due_at) == (new_due, START + rows.days(21))
    assert deadlines.cutoff_at == new_due + rows.days(14) and deadlines.extended
    overview = operations.extension_overview(course.assignment)
    assert [row["deadlines"].due_at for row in overview] == [new_due]


def test_lateness_counts_from_the_cohort_due_date(course, student):
    join(course.enrollment, course.cohort)
    # After the enrolment-based due date (day 21 from T0) but before the cohort's: on time.
    clock.freeze(T0 + rows.days(30))
    on_time = rows.hand_in(student, course.assignment, now=T0 + rows.days(30))
    assert (on_time.late_seconds, on_time.due_at) == (0, START + rows.days(21))
    # Two days and three hours after the cohort due date: late by exactly that.
    when = START + rows.days(23) + rows.days(3 / 24)
    clock.freeze(when)
    late = rows.hand_in(student, course.assignment, now=when)
    assert late.late_seconds == (2 * 24 + 3) * 3600
    dashboard = operations.student_overview(student)
    assert [row["deadlines"].due_at for row in dashboard] == [START + rows.days(21)]


def test_the_loader_accepts_due_from_and_refuses_an_unknown_value_with_file_and_line(app, tmp_path):
    problems, _ = check_modified(tmp_path, "due_days = 21", 'due_days = 21\ndue_from = "cohort"')
    assert problems == []
    problems, line = check_modified(tmp_path / "bad", "due_days = 21", 'due_days = 21\ndue_from = "semester"')
    [problem] = problems
    assert "due_from must be 'enrolment' or 'cohort'" in problem.message and "'semester'" in problem.message
    assert problem.line == line + 1
    assert str(problem.path).endswith("social-media-strategist/track.toml")


def test_syncing_stores_due_from(app, tmp_path):
    folder = tmp_path / "courses" / "social-media-strategist"
    check_modified(tmp_path, "due_days = 21", 'due_days = 21\ndue_from = "cohort"')
    raw = tomllib.loads((folder / "track.toml").read_text(encoding="utf-8"))
    content = ContentSet(courses_dir=tmp_path / "courses", quizzes_dir=tmp_path / "quizzes")
    spec = loader.check_track_assignment(content, "social-media-strategist", folder / "track.toml", raw)
    plain = loader.check_track_assignment(
        content,
        "social-media-strategist",
        folder / "track.toml",
        {**raw, "assignment": {k: v for k, v in raw["assignment"].items() if k != "due_from"}},
    )
    assert spec.due_from == "cohort" and plain.due_from == "enrolment"
    assert spec.source_hash() != plain.source_hash()
    track = rows.make_track("social-media-strategist", "Strategist")
    content.parsed["assignments"] = {"social-media-strategist": spec}
    loader.sync_assignments(content)
    db.session.commit()
    stored = db.session.execute(sa.select(Assignment).where(Assignment.track_id == track.id)).scalar_one()
    assert stored.due_from == "cohort"


def test_staff_create_a_cohort_and_put_students_in_it(
    app, course, student, make_user, instructor, client, login
):
    other = make_user(email="other@example.org", full_name="Olga Other")
    rows.enroll(other, course.track, T0)
    login(client, instructor)
    response = client.post(
        "/gradebook/strategist/cohorts", data={"cohort-name": "Autumn 2025", "cohort-starts_on": "2025-09-01"}
    )
    assert response.status_code == 302
    autumn = db.session.execute(sa.select(Cohort).where(Cohort.name == "Autumn 2025")).scalar_one()
    assert autumn.starts_at == datetime(2025, 9, 1, tzinfo=UTC) and autumn.track_id == course.track.id

    duplicate = client.post(
        "/gradebook/strategist/cohorts", data={"cohort-name": "Autumn 2025", "cohort-starts_on": "2025-10-01"}
    )
    assert duplicate.status_code == 422
    assert "already has a cohort named" in duplicate.get_data(as_text=True)
    no_date = client.post("/gradebook/strategist/cohorts", data={"cohort-name": "Winter"})
    assert no_date.status_code == 422 and "Enter the date the cohort starts." in no_date.get_data(
        as_text=True
    )

    response = client.post(
        "/gradebook/strategist/cohorts/assign",
        data={"assign-cohort": str(autumn.id), "assign-students": [str(student.id), str(other.id)]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    cohorts = db.session.execute(
        sa.select(Enrollment.user_id, Enrollment.cohort_id).order_by(Enrollment.user_id)
    ).all()
    assert dict(cohorts) == {
        student.id: autumn.id,
        other.id: autumn.id,
    }
    events = (
        db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action.in_(["cohort.created", "cohort.assigned"]))
        )
        .scalars()
        .all()
    )
    assert sorted(e.action for e in events) == ["cohort.assigned", "cohort.assigned", "cohort.created"]
    assert all(e.actor_id == instructor.id for e in events)

    # Back to no cohort; a cohort of another track or a stranger is refused.
    assert (
        client.post(
            "/gradebook/strategist/cohorts/assign",
            data={"assign-cohort": "", "assign-students": [str(other.id)]},
        ).status_code
        == 302
    )
    assert db.session.get(Enrollment, course.enrollment.id).cohort_id == autumn.id
    stranger = make_user(email="stranger@example.org")
    refused = client.post(
        "/gradebook/strategist/cohorts/assign",
        data={"assign-cohort": str(autumn.id), "assign-students": [str(stranger.id)]},
    )
    assert refused.status_code == 422 and "not enrolled in this track" in refused.get_data(as_text=True)
    nothing = client.post("/gradebook/strategist/cohorts/assign", data={"assign-cohort": str(autumn.id)})
    assert nothing.status_code == 422 and "Choose at least one student." in nothing.get_data(as_text=True)


def test_a_student_cannot_create_or_assign_cohorts(course, student, client, login):
    login(client, student)
    assert (
        client.post(
            "/gradebook/strategist/cohorts", data={"cohort-name": "Mine", "cohort-starts_on": "2025-09-01"}
        ).status_code
        == 403
    )
    assert (
        client.post(
            "/gradebook/strategist/cohorts/assign",
            data={"assign-cohort": str(course.cohort.id), "assign-students": [str(student.id)]},
        ).status_code
        == 403
    )
    assert db.session.execute(sa.select(sa.func.count()).select_from(Cohort)).scalar_one() == 1
    assert db.session.get(Enrollment, course.enrollment.id).cohort_id is None


def test_the_gradebook_shows_each_students_cohort_on_the_page_and_in_the_csv(
    course, student, make_user, instructor, client, login
):
    other = make_user(email="other@example.org", full_name="Olga Other")
    rows.enroll(other, course.track, T0)
    join(course.enrollment, course.cohort)
    login(client, instructor)
    page = client.get("/gradebook/strategist").get_data(as_text=True)
    assert '<th scope="col">Cohort</th>' in page
    assert "Spring 2025" in page.split(f'<tr data-student="{student.id}">')[1].split("</tr>")[0]
    assert "—" in page.split(f'<tr data-student="{other.id}">')[1].split("</tr>")[0]
    table = list(csv.reader(io.StringIO(client.get("/gradebook/strategist.csv").get_data(as_text=True))))
    column = table[0].index("Cohort")
    by_email = {line[1]: line[column] for line in table[1:]}
    assert by_email == {student.email: "Spring 2025", other.email: ""}

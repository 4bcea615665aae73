"""Races on the handbook, with real threads and connections on SQLite and PostgreSQL (as the quiz races are tested):
two releases give one release, one history line and one event; a double-click submit gives one version and a
clear message; two graders saving, and an accepted regrade racing a release, each end in one consistent state."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from lms import clock, events
from lms.accounts.models import User
from lms.assignments import operations
from lms.assignments.models import GradeChange, RegradeRequest, Submission
from lms.audit import AuditEvent
from lms.errors import DomainError
from lms.extensions import db
from tests.fixtures.files import rows, samples
from tests.test_quiz_concurrency import race

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
REASON = "The SWOT section cites three sources on page 6; please look at it again."


@pytest.fixture
def course(app, student, instructor, make_user):
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track, criteria=3)
    rows.enroll(student, track, T0)
    second = make_user("instructor", full_name="Second Grader")
    return SimpleNamespace(
        track=track, assignment=assignment, student=student, instructor=instructor, second=second
    )


@pytest.fixture
def heard() -> Iterator[list[events.Event]]:
    found: list[events.Event] = []
    with events.subscribed(events.GradeReleased, found.append):
        yield found


def user(user_id: int) -> User:
    return db.session.get(User, user_id)


def submission_row(submission_id: int) -> Submission:
    return db.session.get(Submission, submission_id)


def reload(submission_id: int) -> Submission:
    db.session.expire_all()
    return db.session.get(Submission, submission_id)


def errors(results) -> list[str]:
    return [value.message for kind, value in results if kind == "error" and isinstance(value, DomainError)]


def releases_of(submission_id: int) -> list[GradeChange]:
    return list(
        db.session.execute(
            sa.select(GradeChange).where(
                GradeChange.submission_id == submission_id, GradeChange.action == "released"
            )
        ).scalars()
    )


def release_events() -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "assignment.grade_released")
    )


def release_job(grader_id: int, submission_id: int):
    def job() -> int:
        return operations.release_grade(user(grader_id), submission_row(submission_id), clock.now_utc()).id

    return job


def test_two_graders_releasing_at_once_give_one_release_one_line_and_one_event(app, course, heard):
    handed_in = rows.hand_in(course.student, course.assignment, samples.pdf(), "handbook.pdf")
    rows.grade(course.instructor, handed_in, level="sound")
    sid = handed_in.id

    results = race(app, [release_job(course.instructor.id, sid), release_job(course.second.id, sid)])

    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    assert errors(results) == ["This grade is already released."]
    submission = reload(sid)
    assert (submission.state, submission.grade.release_count) == ("released", 1)
    assert [line.new["release"] for line in releases_of(sid)] == [1]
    assert release_events() == 1
    assert [(e.submission_id, e.release_number) for e in heard] == [(sid, 1)]


def test_after_a_reopened_regrade_two_releases_at_once_give_release_two_once(app, course, heard):
    handed_in = rows.hand_in(course.student, course.assignment, samples.pdf(), "handbook.pdf")
    rows.grade(course.instructor, handed_in, level="sound", release=True)
    now = clock.now_utc()
    request = operations.request_regrade(course.student, reload(handed_in.id), REASON, now)
    operations.answer_regrade(
        course.instructor, db.session.get(RegradeRequest, request.id), True, "Yes.", now
    )
    rows.grade(course.instructor, reload(handed_in.id), level="excellent")
    sid = handed_in.id

    results = race(app, [release_job(course.instructor.id, sid), release_job(course.second.id, sid)])

    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    assert reload(sid).grade.release_count == 2
    assert [line.new["release"] for line in releases_of(sid)] == [1, 2]
    assert release_events() == 2
    assert [e.release_number for e in heard] == [1, 2]


def test_a_double_click_on_submit_gives_one_version_and_a_clear_message(app, course):
    rows.upload(course.student, course.assignment, samples.pdf(), "handbook.pdf")
    uid, assignment_id = course.student.id, course.assignment.id

    def submit() -> int:
        from lms.assignments.models import Assignment

        assignment = db.session.get(Assignment, assignment_id)
        return operations.submit_draft(user(uid), assignment, True, clock.now_utc()).version

    results = race(app, [submit, submit, submit])

    assert [value for kind, value in results if kind == "ok"] == [1], results
    assert (
        errors(results)
        == ["Version 1 is already submitted for grading, and there is no newer draft to submit."] * 2
    )
    db.session.expire_all()
    states = db.session.execute(sa.select(Submission.state, Submission.version)).all()
    assert [tuple(s) for s in states] == [("submitted", 1)]
    submitted = db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "assignment.submitted")
    )
    assert submitted == 1


def test_a_double_click_on_submit_through_the_page_answers_a_message_never_a_500(app, login, course):
    """The same race through HTTP: two requests of one student (two tabs), each its own connection."""
    rows.upload(course.student, course.assignment, samples.pdf(), "handbook.pdf")
    tabs = [login(app.test_client(), course.student) for _ in range(2)]
    tokens = [tab.csrf_token() for tab in tabs]
    url = "/assignments/strategist/handbook/submit"

    def post(index: int):
        def job() -> tuple[int, str]:
            data = {"confirm": "y", "csrf_token": tokens[index]}
            response = tabs[index].post(url, data=data, csrf=False)
            return response.status_code, response.get_data(as_text=True)

        return job

    results = race(app, [post(0), post(1)])

    assert [kind for kind, _ in results] == ["ok", "ok"], results
    statuses = sorted(value[0] for _, value in results)
    assert statuses == [302, 422]
    refused = next(value[1] for _, value in results if value[0] == 422)
    assert "Version 1 is already submitted for grading" in refused
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 1


def test_two_graders_saving_at_once_each_leave_a_history_line_and_one_grade(app, course):
    handed_in = rows.hand_in(course.student, course.assignment, samples.pdf(), "handbook.pdf")
    sid = handed_in.id
    criteria = [c.id for c in course.assignment.active_criteria]

    def save(grader_id: int, level: str):
        def job() -> int:
            submission = submission_row(sid)
            grade = operations.save_grade(
                user(grader_id),
                submission,
                dict.fromkeys(criteria, level),
                {},
                f"Saved as {level}.",
                None,
                clock.now_utc(),
            )
            return grade.id

        return job

    results = race(app, [save(course.instructor.id, "sound"), save(course.second.id, "weak")])

    assert [kind for kind, _ in results] == ["ok", "ok"], results
    assert len({value for _, value in results}) == 1  # one grade row, saved twice
    db.session.expire_all()
    saved = (
        db.session.execute(
            sa.select(GradeChange).where(GradeChange.action == "saved").order_by(GradeChange.id)
        )
        .scalars()
        .all()
    )
    assert len(saved) == 2
    assert saved[0].old is None and saved[1].old == saved[0].new  # the second saw what the first committed
    assert reload(sid).grade.points == saved[1].new["points"]


def test_an_accepted_regrade_racing_a_second_answer_is_answered_once(app, course):
    handed_in = rows.hand_in(course.student, course.assignment, samples.pdf(), "handbook.pdf")
    rows.grade(course.instructor, handed_in, level="sound", release=True)
    request = operations.request_regrade(course.student, reload(handed_in.id), REASON, clock.now_utc())
    request_id = request.id

    def answer(grader_id: int, accept: bool):
        def job() -> str:
            found = db.session.get(RegradeRequest, request_id)
            return operations.answer_regrade(
                user(grader_id), found, accept, "Answered.", clock.now_utc()
            ).state

        return job

    results = race(app, [answer(course.instructor.id, True), answer(course.second.id, False)])

    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    assert errors(results) == ["This regrade request has already been answered."]
    db.session.expire_all()
    answered = db.session.get(RegradeRequest, request_id)
    reopened = db.session.scalar(
        sa.select(sa.func.count()).select_from(GradeChange).where(GradeChange.action == "reopened")
    )
    assert reopened == (1 if answered.state == "accepted" else 0)
    assert reload(handed_in.id).state == ("in_grading" if answered.state == "accepted" else "released")


def test_a_student_asking_twice_at_once_makes_one_regrade_request(app, course):
    handed_in = rows.hand_in(course.student, course.assignment, samples.pdf(), "handbook.pdf")
    rows.grade(course.instructor, handed_in, level="sound", release=True)
    uid, sid = course.student.id, handed_in.id

    def ask() -> int:
        return operations.request_regrade(user(uid), submission_row(sid), REASON, clock.now_utc()).id

    results = race(app, [ask, ask])

    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    assert errors(results) == ["You have already asked for a regrade of this grade."]
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RegradeRequest)) == 1

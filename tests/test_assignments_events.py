"""The handbook tells other features what happened: GradeReleased at each release, RegradeAnswered at each answer."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from lms import clock, events
from lms.assignments import operations
from lms.assignments.models import RegradeRequest, Submission
from lms.errors import DomainError
from lms.extensions import db
from tests.fixtures.files import rows, samples

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
REASON = "The SWOT section cites three sources on page 6; please look at it again."


@pytest.fixture
def course(app, student, instructor):
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track, criteria=3)
    rows.enroll(student, track, T0)
    return SimpleNamespace(track=track, assignment=assignment, student=student, instructor=instructor)


@pytest.fixture
def handed_in(course) -> Submission:
    clock.freeze(T0 + rows.days(5))
    return rows.hand_in(course.student, course.assignment, samples.pdf(), "stella-handbook.pdf")


@pytest.fixture
def heard() -> Iterator[list[events.Event]]:
    """Every GradeReleased and RegradeAnswered emitted during the test, in order."""
    found: list[events.Event] = []
    with (
        events.subscribed(events.GradeReleased, found.append),
        events.subscribed(events.RegradeAnswered, found.append),
    ):
        yield found


def reload(submission: Submission) -> Submission:
    db.session.expire_all()
    return db.session.get(Submission, submission.id)  # type: ignore[return-value]


def released(course, submission: Submission, release_number: int, passed: bool) -> events.GradeReleased:
    return events.GradeReleased(
        submission_id=submission.id,
        user_id=course.student.id,
        track_id=course.track.id,
        actor_id=course.instructor.id,
        release_number=release_number,
        passed=passed,
    )


def test_uploading_submitting_and_saving_grades_emit_nothing(course, heard):
    clock.freeze(T0 + rows.days(5))
    rows.upload(course.student, course.assignment)
    submission = operations.submit_draft(course.student, course.assignment, True, clock.now_utc())
    rows.grade(course.instructor, submission, decision=None)  # part of a grade
    rows.grade(course.instructor, reload(submission), level="excellent")  # finished, still a draft
    assert heard == []


def test_releasing_a_pass_emits_one_grade_released(course, handed_in, heard):
    rows.grade(course.instructor, handed_in, level="sound", release=True)
    assert heard == [released(course, handed_in, release_number=1, passed=True)]


def test_releasing_a_return_for_revision_emits_one_grade_released_that_did_not_pass(course, handed_in, heard):
    rows.grade(course.instructor, handed_in, level="weak", decision="revise", release=True)
    assert heard == [released(course, handed_in, release_number=1, passed=False)]


def test_a_refused_release_emits_nothing(course, handed_in, heard):
    rows.grade(course.instructor, handed_in, decision=None)
    with pytest.raises(DomainError, match="Finish the grade first"):
        operations.release_grade(course.instructor, reload(handed_in), clock.now_utc())
    db.session.rollback()
    rows.grade(course.instructor, reload(handed_in), release=True)
    with pytest.raises(DomainError, match="already released"):
        operations.release_grade(course.instructor, reload(handed_in), clock.now_utc())
    assert heard == [released(course, handed_in, release_number=1, passed=True)]


def test_declining_a_regrade_emits_one_regrade_answered(course, handed_in, heard):
    rows.grade(course.instructor, handed_in, level="sound", release=True)
    request = operations.request_regrade(course.student, reload(handed_in), REASON, clock.now_utc())
    assert heard[1:] == []  # asking is not answering
    operations.answer_regrade(
        course.instructor, request, False, "Page 6 was read; it stands.", clock.now_utc()
    )
    assert heard[1:] == [
        events.RegradeAnswered(
            submission_id=handed_in.id,
            user_id=course.student.id,
            actor_id=course.instructor.id,
            accepted=False,
        )
    ]
    with pytest.raises(DomainError, match="already been answered"):
        operations.answer_regrade(
            course.instructor, db.session.get(RegradeRequest, request.id), True, "Changed my mind.", T0
        )
    assert len(heard) == 2


def test_accepting_a_regrade_then_releasing_again_counts_the_second_release(course, handed_in, heard):
    rows.grade(course.instructor, handed_in, level="sound", release=True)
    now = clock.now_utc()
    request = operations.request_regrade(course.student, reload(handed_in), REASON, now)
    with pytest.raises(DomainError, match="Write a reply"):
        operations.answer_regrade(course.instructor, request, True, "  ", now)
    db.session.rollback()
    operations.answer_regrade(
        course.instructor, db.session.get(RegradeRequest, request.id), True, "Agreed.", now
    )
    rows.grade(course.instructor, reload(handed_in), level="excellent")  # the reopened grade, saved again
    assert len(heard) == 2
    operations.release_grade(course.instructor, reload(handed_in), now)
    assert heard == [
        released(course, handed_in, release_number=1, passed=True),
        events.RegradeAnswered(
            submission_id=handed_in.id,
            user_id=course.student.id,
            actor_id=course.instructor.id,
            accepted=True,
        ),
        released(course, handed_in, release_number=2, passed=True),
    ]


def test_the_pages_emit_once_per_release_and_answer_and_after_commit_handlers_hear_them(
    client, login, course, handed_in
):
    committed: list[events.Event] = []
    rows.grade(course.instructor, handed_in, level="sound")
    login(client, course.instructor)
    with (
        events.subscribed(events.GradeReleased, committed.append, events.Phase.AFTER_COMMIT),
        events.subscribed(events.RegradeAnswered, committed.append, events.Phase.AFTER_COMMIT),
    ):
        assert client.post(f"/grading/submissions/{handed_in.id}/release").status_code == 302
        client.post(f"/grading/submissions/{handed_in.id}/release")  # already released: refused, no event
        operations.request_regrade(course.student, reload(handed_in), REASON, clock.now_utc())
        request_id = db.session.execute(sa.select(RegradeRequest.id)).scalar_one()
        answer = {"answer": "decline", "response": "Page 6 was read; it stands."}
        assert client.post(f"/grading/regrades/{request_id}", data=answer).status_code == 302
        client.post(f"/grading/regrades/{request_id}", data=answer)  # already answered: refused, no event
    assert committed == [
        released(course, handed_in, release_number=1, passed=True),
        events.RegradeAnswered(
            submission_id=handed_in.id,
            user_id=course.student.id,
            actor_id=course.instructor.id,
            accepted=False,
        ),
    ]

"""AttemptSubmitted: one event each time an attempt is finished, by the student's submit or by the server once its
time has run out, emitted inside the transaction that closes the attempt (where ProgressChanged is)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from lms import events
from lms.extensions import db
from lms.quizzes import operations
from lms.quizzes.models import Attempt
from tests import test_quiz_attempts
from tests.test_quiz_attempts import at, attempt, save

# The same fixtures: a quiz (pass mark 60%, 10 minutes, 5 points), and the student's attempt of it.
quiz, taking = test_quiz_attempts.quiz, test_quiz_attempts.taking


@pytest.fixture
def heard() -> Iterator[list[events.AttemptSubmitted]]:
    seen: list[events.AttemptSubmitted] = []
    with events.subscribed(events.AttemptSubmitted, seen.append):
        yield seen


def submitted(attempt_id: int, student, quiz, *, by_server: bool, passed: bool) -> events.AttemptSubmitted:
    return events.AttemptSubmitted(
        attempt_id=attempt_id, user_id=student.id, quiz_id=quiz.id, track_id=quiz.track_id,
        by_server=by_server, passed=passed,
    )  # fmt: skip


@pytest.mark.parametrize("body", [{}, {"reason": "time_up"}], ids=["submit", "the page's timer"])
def test_the_students_submit_emits_one_event(client, student, quiz, taking, heard, body):
    at(100)
    save(client, taking, "goal", "c1", 1)
    save(client, taking, "pick", ["c1", "c2"], 1)
    save(client, taking, "roi", "roi", 1)
    if body:
        at(600)  # the page's timer is heard at the deadline (before it, the server finishes nothing)
    response = client.post(f"/quizzes/attempts/{taking}/submit", json=body)
    assert response.status_code == 200 and response.get_json()["percent"] == 80.0
    assert heard == [submitted(taking, student, quiz, by_server=False, passed=True)]
    again = client.post(f"/quizzes/attempts/{taking}/submit", json={})  # a double click: the same result
    assert again.get_json() == response.get_json()
    assert client.post(f"/quizzes/attempts/{taking}/submit", data={"q-goal": "c2"}).status_code == 302
    assert len(heard) == 1


def test_a_failed_submit_says_so(client, student, quiz, taking, heard):
    at(100)
    save(client, taking, "goal", "c1", 1)
    operations.submit_attempt(student, taking)
    assert heard == [submitted(taking, student, quiz, by_server=False, passed=False)]


# How the server finishes an attempt whose time ran out (deadline 600 s, network grace 10 s).
def by_finalize_overdue(client, taking, token, instructor) -> None:
    assert operations.finalize_overdue() == 1
    assert operations.finalize_overdue() == 0


def by_a_late_save(client, taking, token, instructor) -> None:
    late = client.post(f"/quizzes/attempts/{taking}/answers", json={"question": "pilot", "value": True, "seq": 2},
                       headers={"X-CSRFToken": token})  # fmt: skip
    assert late.status_code == 409 and "Time was up" in late.get_json()["message"]


def by_a_late_submit(client, taking, token, instructor) -> None:
    late = client.post(f"/quizzes/attempts/{taking}/submit", json={}, headers={"X-CSRFToken": token})
    assert late.status_code == 409 and "submitted automatically" in late.get_json()["message"]


def by_reading_the_attempt(client, taking, token, instructor) -> None:
    assert client.get(f"/quizzes/attempts/{taking}").status_code == 302


def by_extra_time_too_late(client, taking, token, instructor) -> None:
    with pytest.raises(operations.TimeUp):
        operations.add_extra_time(instructor, taking, 5)


SERVER_FINISHES = [
    by_finalize_overdue,
    by_a_late_save,
    by_a_late_submit,
    by_reading_the_attempt,
    by_extra_time_too_late,
]


@pytest.mark.parametrize("finish", SERVER_FINISHES)
@pytest.mark.parametrize("passing", [True, False], ids=["passed", "not passed"])
def test_the_server_finishing_an_overdue_attempt_emits_one_event(
    client, student, instructor, quiz, taking, heard, finish, passing
):
    at(100)
    save(client, taking, "goal", "c1", 1)
    if passing:
        save(client, taking, "pick", ["c1", "c2"], 1)
    token = client.csrf_token()  # the page's token, loaded in time (a page loaded later finalizes it itself)
    at(611)
    finish(client, taking, token, instructor)
    assert heard == [submitted(taking, student, quiz, by_server=True, passed=passing)]
    done = attempt(taking)
    assert (done.submitted_by, done.passed) == ("server", passing)
    assert client.get(f"/quizzes/attempts/{taking}/result").status_code == 200  # read again: nothing more
    assert operations.finalize_overdue() == 0
    assert len(heard) == 1


def test_the_event_comes_inside_the_transaction_with_the_attempt_scored_and_before_progress(
    client, student, quiz, taking
):
    seen: list[tuple[str, object]] = []

    def on_submitted(event: events.AttemptSubmitted) -> None:
        row = db.session.get(Attempt, event.attempt_id)
        seen.append(("submitted", (row.state, row.percent, row.passed)))

    def on_progress(event: events.ProgressChanged) -> None:
        seen.append(("progress", event.user_id))

    with (
        events.subscribed(events.AttemptSubmitted, on_submitted),
        events.subscribed(events.ProgressChanged, on_progress),
    ):
        at(100)
        save(client, taking, "goal", "c1", 1)
        operations.submit_attempt(student, taking)
    assert seen == [("submitted", ("submitted", 20.0, False)), ("progress", student.id)]


def test_a_submit_rolled_back_tells_nobody_after_commit(client, student, quiz, taking):
    after_commit: list[events.AttemptSubmitted] = []

    def refuse(event: events.AttemptSubmitted) -> None:
        raise RuntimeError("a handler that must hold with the change failed")

    with (
        events.subscribed(events.AttemptSubmitted, after_commit.append, events.Phase.AFTER_COMMIT),
        events.subscribed(events.AttemptSubmitted, refuse),
    ):
        at(100)
        with pytest.raises(RuntimeError):
            operations.submit_attempt(student, taking)
        db.session.rollback()
    assert after_commit == []
    assert attempt(taking).state == "in_progress"
    with events.subscribed(events.AttemptSubmitted, after_commit.append, events.Phase.AFTER_COMMIT):
        operations.submit_attempt(student, taking)
    assert after_commit == [submitted(taking, student, quiz, by_server=False, passed=False)]

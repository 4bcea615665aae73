"""Races, with real threads and connections on SQLite and PostgreSQL: two submits give one result, saves racing a
submit are either scored or refused (never stored and unscored), two starts give one attempt."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from lms.accounts.access import Claim
from lms.accounts.models import User
from lms.audit import AuditEvent
from lms.errors import DomainError
from lms.extensions import db
from lms.quizzes import operations
from lms.quizzes.models import AnswerSave, Attempt
from tests.test_quiz_support import setup_quiz


def race(app, jobs: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run the jobs in threads released together, each with its own app context, session and connection."""
    barrier = threading.Barrier(len(jobs))
    results: list[tuple[str, Any]] = [("unset", None)] * len(jobs)

    def worker(index: int, job: Callable[[], Any]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                results[index] = ("ok", job())
            except Exception as error:  # reported to the test, which asserts on it
                db.session.rollback()
                results[index] = ("error", error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def as_user(user_id: int) -> User:
    return db.session.get(User, user_id)


@pytest.fixture
def quiz(app, tmp_path, student):
    return setup_quiz(tmp_path, student, attempts_allowed=0)


def test_two_submits_at_once_give_one_result(app, student, quiz):
    attempt_id = operations.start_attempt(student, quiz).id
    operations.save_answer(student, attempt_id, "goal", "c1", 1)
    uid = student.id

    def submit() -> tuple[str, float | None, Any]:
        done = operations.submit_attempt(as_user(uid), attempt_id)
        return done.state, done.score, done.submitted_at

    results = race(app, [submit, submit, submit])
    assert [kind for kind, _ in results] == ["ok", "ok", "ok"], results
    assert len({value for _, value in results}) == 1  # the same state, score and time for every caller
    assert results[0][1][:2] == ("submitted", 1.0)
    events = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "quiz.attempt_submitted"))
    assert len(events.scalars().all()) == 1


def save_as_the_endpoint_does(uid: int, attempt_id: int, question: str, value: Any, seq: int) -> Any:
    """The autosave endpoint's way: read the student with the attempt, store in one statement if nothing changed,
    else decide under the lock (lms.quizzes.answer_views.save)."""
    reader, read = operations.read_reader_and_attempt(uid, attempt_id)
    receipt = operations.save_answer_at_once(Claim.of(reader), read, question, value, seq) if read else None
    return receipt or operations.save_answer(as_user(uid), attempt_id, question, value, seq)


@pytest.mark.parametrize("way", ["locked", "one statement"])
@pytest.mark.parametrize("round_", range(3))
def test_saves_racing_a_submit_are_scored_or_refused_never_lost(app, student, quiz, round_, way):
    attempt_id = operations.start_attempt(student, quiz).id
    uid = student.id
    answers = [("goal", "c1"), ("pilot", True), ("roi", "roi"), ("pick", ["c1", "c2"])]

    def saver(question: str, value: Any, seq: int) -> Callable[[], Any]:
        if way == "one statement":
            return lambda: save_as_the_endpoint_does(uid, attempt_id, question, value, seq)
        return lambda: operations.save_answer(as_user(uid), attempt_id, question, value, seq)

    jobs: list[Callable[[], Any]] = [saver(q, v, seq) for seq in (1, 2) for q, v in answers]
    jobs.insert(round_ * 3, lambda: operations.submit_attempt(as_user(uid), attempt_id))
    results = race(app, jobs)

    for kind, value in results:
        assert kind == "ok" or isinstance(value, operations.AttemptFinished), value
    acknowledged = [
        value for kind, value in results if kind == "ok" and isinstance(value, operations.SaveReceipt)
    ]
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.state == "submitted"
    stored = (
        db.session.execute(sa.select(AnswerSave).where(AnswerSave.attempt_id == attempt_id)).scalars().all()
    )
    # Every acknowledged save is stored, and nothing is stored that was not acknowledged.
    assert sorted((r.question_id, r.seq) for r in acknowledged) == sorted(
        (s.question_id, s.seq) for s in stored
    )
    # The scored answer of each question is its newest stored save: no stored answer escaped scoring.
    for question, value in answers:
        newest = max(
            (s for s in stored if s.question_id == question), key=lambda s: (s.seq, s.id), default=None
        )
        scored = attempt.results[question]
        assert scored["save_id"] == (newest.id if newest else None)
        assert scored["answer"] == (value if newest else None)
    assert attempt.score == sum(r["points"] for r in attempt.results.values())


def test_two_starts_at_once_give_one_attempt(app, student, quiz):
    uid = student.id
    quiz_id = quiz.id

    def begin() -> int:
        from lms.quizzes.models import Quiz

        return operations.start_attempt(as_user(uid), db.session.get(Quiz, quiz_id)).id

    results = race(app, [begin, begin, begin])
    assert [kind for kind, _ in results] == ["ok", "ok", "ok"], results
    assert len({value for _, value in results}) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 1


# --- the one-statement save decides on what it read, and stores only if that is still so -----------------------


def stored_saves(attempt_id: int) -> list[tuple[str, int]]:
    db.session.expire_all()
    rows = db.session.execute(sa.select(AnswerSave).where(AnswerSave.attempt_id == attempt_id)).scalars()
    return sorted((row.question_id, row.seq) for row in rows)


def test_a_save_read_before_a_submit_is_not_stored_after_it(app, student, quiz):
    attempt_id = operations.start_attempt(student, quiz).id
    _, read = operations.read_reader_and_attempt(student.id, attempt_id)
    operations.submit_attempt(student, attempt_id)
    assert operations.save_answer_at_once(Claim.of(student), read, "goal", "c1", 1) is None
    assert stored_saves(attempt_id) == []
    with pytest.raises(operations.AttemptFinished):
        operations.save_answer(student, attempt_id, "goal", "c1", 1)


def test_a_save_read_before_extra_time_is_decided_again_under_the_lock(app, student, instructor, quiz):
    attempt_id = operations.start_attempt(student, quiz).id
    _, read = operations.read_reader_and_attempt(student.id, attempt_id)
    operations.add_extra_time(instructor, attempt_id, 5)
    assert (
        operations.save_answer_at_once(Claim.of(student), read, "goal", "c1", 1) is None
    )  # the deadline moved
    assert stored_saves(attempt_id) == []
    receipt = operations.save_answer(student, attempt_id, "goal", "c1", 1)
    assert receipt.deadline == read.deadline + timedelta(minutes=5)
    assert stored_saves(attempt_id) == [("goal", 1)]


def test_the_one_statement_save_stores_reports_and_leaves_the_rest_to_the_lock(app, student, make_user, quiz):
    attempt_id = operations.start_attempt(student, quiz).id
    reader, read = operations.read_reader_and_attempt(student.id, attempt_id)
    assert reader.id == student.id and reader.full_name == "Stella Student" and read.id == attempt_id
    first = operations.save_answer_at_once(Claim.of(student), read, "goal", "c1", 2)
    assert first is not None and first.current and first.deadline == read.deadline
    older = operations.save_answer_at_once(Claim.of(student), read, "goal", "c2", 1)
    assert older is not None and not older.current  # kept, not used: a newer one was already stored
    assert stored_saves(attempt_id) == [("goal", 1), ("goal", 2)]
    # Not for it: an unknown question, an invalid answer, another student's attempt, a save given too late.
    assert operations.save_answer_at_once(Claim.of(student), read, "nope", "c1", 3) is None
    assert operations.save_answer_at_once(Claim.of(student), read, "pick", "not-a-list", 3) is None
    other = make_user()
    assert operations.save_answer_at_once(Claim.of(other), read, "goal", "c1", 3) is None
    assert operations.read_reader_and_attempt(other.id, attempt_id)[1] is None
    late = read.deadline + timedelta(minutes=5)
    assert operations.save_answer_at_once(Claim.of(student), read, "goal", "c1", 3, now=late) is None
    assert stored_saves(attempt_id) == [("goal", 1), ("goal", 2)]
    with pytest.raises(DomainError):
        operations.save_answer_at_once(Claim.of(student), read, "goal", "c1", -1)

"""Races, with real threads and connections on SQLite and PostgreSQL: two submits give one result, saves racing a
submit are either scored or refused (never stored and unscored), two starts give one attempt."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.audit import AuditEvent
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


@pytest.mark.parametrize("round_", range(3))
def test_saves_racing_a_submit_are_scored_or_refused_never_lost(app, student, quiz, round_):
    attempt_id = operations.start_attempt(student, quiz).id
    uid = student.id
    answers = [("goal", "c1"), ("pilot", True), ("roi", "roi"), ("pick", ["c1", "c2"])]

    def saver(question: str, value: Any, seq: int) -> Callable[[], Any]:
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

"""An attempt's rows: the quiz and its version, a student's attempts and the one that counts, the saved answers,
the questions (read once per process), and the row lock that every change to an attempt takes.

Every change to an attempt happens under a lock on its row (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite),
so a save racing a submit is either stored before the submit scores it, or refused: never stored and left
unscored. The one-statement autosave (lms.quizzes.fast) takes that lock in its own statement."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from lms.accounts.models import Identity
from lms.errors import DomainError, NotFound
from lms.extensions import db
from lms.quizzes.models import SUBMITTED, AnswerSave, Attempt, Quiz, QuizVersion


class TimeUp(DomainError):
    """Saving or submitting after the deadline (and any grace): refused, what was saved stays."""


class AttemptFinished(DomainError):
    """The attempt is already submitted."""


class TimeNotUp(DomainError):
    """The page said time is up, but the server's deadline has not passed: the attempt goes on."""


class UnansweredQuestions(DomainError):
    """A plain form submitted with questions unanswered and not confirmed: its answers are kept, nothing submitted."""


# -- reading ---------------------------------------------------------------------------------------------------


def get_quiz(slug: str, *, include_retired: bool = False) -> Quiz:
    quiz = db.session.execute(sa.select(Quiz).where(Quiz.slug == slug)).scalar_one_or_none()
    if quiz is None or (quiz.retired_at is not None and not include_retired):
        raise NotFound("There is no quiz at this address.")
    return quiz


def current_version(quiz: Quiz) -> QuizVersion:
    return db.session.execute(
        sa.select(QuizVersion).where(
            QuizVersion.quiz_id == quiz.id, QuizVersion.number == quiz.current_version
        )
    ).scalar_one()


@dataclass(frozen=True)
class SavedAnswer:
    value: Any
    seq: int
    save_id: int
    server_at: datetime


def is_answered(saved: SavedAnswer | None) -> bool:
    """Whether a question has an answer: a saved value that is not empty (no choice, no text, nothing ticked)."""
    return saved is not None and saved.value not in (None, [], "")


def current_answers(attempt_id: int) -> dict[str, SavedAnswer]:
    """The answer per question: the save with the highest sequence number, the first stored of equals (a later
    save with the same number was not newer when it arrived: lms.quizzes.saving). What the page shows on a reload,
    and what is scored."""
    rows = db.session.execute(
        sa.select(
            AnswerSave.question_id, AnswerSave.value, AnswerSave.seq, AnswerSave.id, AnswerSave.server_at
        )
        .where(AnswerSave.attempt_id == attempt_id)
        .order_by(AnswerSave.seq, AnswerSave.id.desc())  # the last one read per question wins
    ).all()
    return {row.question_id: SavedAnswer(row.value, row.seq, row.id, row.server_at) for row in rows}


_saves = AnswerSave.__table__
# Built once: the answer to one question now (of_attempt, of_question), as current_answers decides it: the first
# stored save of the highest sequence number. The highest is one probe of ix_quiz_answer_saves_attempt_question
# (ORDER BY ... LIMIT 1, which the planner never turns into a scan the way it may a max() while its statistics are
# young), and only its saves (one, or a retry's equals) are sorted by id. Ordering every save of the question by
# (seq desc, id) read and sorted all of them, thousands for an answer saved at each keystroke (README, "Benchmarks").
_OF_QUESTION = (
    _saves.c.attempt_id == sa.bindparam("of_attempt"),
    _saves.c.question_id == sa.bindparam("of_question"),
)
ANSWER_NOW = (
    sa.select(_saves.c.value, _saves.c.seq, _saves.c.id, _saves.c.server_at)
    .where(
        *_OF_QUESTION,
        _saves.c.seq
        == sa.select(_saves.c.seq)
        .where(*_OF_QUESTION)
        .order_by(_saves.c.seq.desc())
        .limit(1)
        .scalar_subquery(),
    )
    .order_by(_saves.c.id)
    .limit(1)
)


def answer_now(attempt_id: int, question_id: str) -> SavedAnswer | None:
    """The answer to one question as current_answers decides it (None: not answered yet)."""
    row = db.session.execute(ANSWER_NOW, {"of_attempt": attempt_id, "of_question": question_id}).first()
    return None if row is None else SavedAnswer(row.value, row.seq, row.id, row.server_at)


def attempts_of(user_id: int, quiz_id: int) -> list[Attempt]:
    return list(
        db.session.execute(
            sa.select(Attempt)
            .where(Attempt.user_id == user_id, Attempt.quiz_id == quiz_id)
            .order_by(Attempt.number)
        ).scalars()
    )


class Counted(Protocol):
    """What counting_attempt reads of an attempt: its row (models.Attempt) or a plain row of those columns."""

    @property
    def state(self) -> str: ...

    @property
    def number(self) -> int: ...

    @property
    def percent(self) -> float | None: ...


CountedT = TypeVar("CountedT", bound=Counted)


def counting_attempt(grading: str, attempts: Iterable[CountedT]) -> CountedT | None:
    """The attempt whose result stands: the highest score (the earliest of equals) or the last submitted."""
    done = [a for a in attempts if a.state == SUBMITTED]
    if not done:
        return None
    if grading == "last":
        return max(done, key=lambda a: a.number)
    return max(done, key=lambda a: (a.percent or 0.0, -a.number))


# -- questions -------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _question_pool(version_id: int, content_hash: str) -> dict[str, dict[str, Any]]:
    """A version's questions by id, read once per process: a version's questions never change (a change to the
    file makes a new version), and the content hash in the key is the SHA-256 of those very questions.

    The page caches forget it with themselves (registered by lms.quizzes.fast: forget_with_pages)."""
    pool = db.session.execute(
        sa.select(QuizVersion.questions).where(QuizVersion.id == version_id)
    ).scalar_one()
    return {q["id"]: q for q in pool}


def questions_of(attempt: Attempt, content_hash: str | None = None) -> dict[str, dict[str, Any]]:
    """The questions of the version the attempt was taken on, by id (read once per process: _question_pool)."""
    if content_hash is None:
        content_hash = db.session.execute(
            sa.select(QuizVersion.content_hash).where(QuizVersion.id == attempt.quiz_version_id)
        ).scalar_one()
    return _question_pool(attempt.quiz_version_id, content_hash)


# -- locking ---------------------------------------------------------------------------------------------------


def _begin_write_on_sqlite() -> None:
    if db.session.get_bind().dialect.name == "sqlite":
        driver = db.session.connection().connection.driver_connection
        if not driver.in_transaction:  # type: ignore[union-attr]
            # SQLite has no row locks: take the database write lock now, before reading what we will change.
            db.session.execute(sa.text("BEGIN IMMEDIATE"))


def _lock_attempt(attempt_id: int) -> Attempt | None:
    """Load the attempt for changing it, holding a write lock on it until this transaction commits."""
    _begin_write_on_sqlite()
    return db.session.execute(
        sa.select(Attempt)
        .where(Attempt.id == attempt_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def _build_lock_with_questions(with_quiz: bool) -> sa.Select[tuple[Attempt, str]]:
    stmt = (
        sa.select(Attempt, QuizVersion.content_hash)
        .join(QuizVersion, QuizVersion.id == Attempt.quiz_version_id)
        .where(Attempt.id == sa.bindparam("attempt_id"))
        .with_for_update(of=Attempt)  # the attempt only: every student's saves read the same version row
        .execution_options(populate_existing=True)
    )
    if with_quiz:
        stmt = stmt.join(Quiz, Quiz.id == Attempt.quiz_id).options(contains_eager(Attempt.quiz))
    return stmt


# Built once: saves and submits are the busiest writes, and building a statement costs more than running it.
_LOCK_WITH_QUESTIONS = {False: _build_lock_with_questions(False), True: _build_lock_with_questions(True)}


def _lock_own_with_questions(
    user: Identity, attempt_id: int, *, with_quiz: bool = False
) -> tuple[Attempt, dict[str, dict[str, Any]]]:
    """The student's own attempt, locked (see _lock_attempt), with its questions (and its quiz), in one statement."""
    _begin_write_on_sqlite()
    row = db.session.execute(_LOCK_WITH_QUESTIONS[with_quiz], {"attempt_id": attempt_id}).one_or_none()
    if row is None or row[0].user_id != user.id:
        db.session.rollback()
        raise NotFound("There is no such attempt.")
    attempt, content_hash = row
    return attempt, questions_of(attempt, content_hash)

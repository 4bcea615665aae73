"""Saving one answer, decided under the attempt's row lock (save_answer): the rule that the one-statement autosave
(lms.quizzes.fast) must agree with, and the pieces the two share (the receipt, the row, the sequence check)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lms.accounts.models import Identity
from lms.clock import now_utc
from lms.errors import DomainError
from lms.extensions import db
from lms.quizzes.attempts import AttemptFinished, TimeUp, _lock_own_with_questions
from lms.quizzes.deadlines import is_overdue, save_cutoff, submit_cutoff
from lms.quizzes.finishing import _finalize
from lms.quizzes.models import IN_PROGRESS, AnswerSave, Attempt
from lms.quizzes.scoring import AnswerInvalid, normalize_answer


@dataclass(frozen=True)
class SaveReceipt:
    question_id: str
    seq: int
    saved_at: datetime
    current: bool  # False: a newer save for this question had already arrived (this one is kept, not used)
    deadline: datetime
    submit_cutoff: datetime


_saves = AnswerSave.__table__
# The newest sequence number of a question's saves (of_attempt, of_question).
_NEWEST_SEQ = (
    sa.select(sa.func.max(_saves.c.seq))
    .where(
        _saves.c.attempt_id == sa.bindparam("of_attempt"), _saves.c.question_id == sa.bindparam("of_question")
    )
    .scalar_subquery()
)
# Stores one save and returns the newest sequence number of its question (the new row included or not: the
# caller only compares). Values come as parameters (_save_row).
_INSERT_SAVE = sa.insert(_saves).returning(_NEWEST_SEQ)


def _save_row(attempt_id: int, question_id: str, seq: int, value: Any, given: datetime, now: datetime
              ) -> dict[str, Any]:  # fmt: skip
    """The parameters of one autosave row, for _INSERT_SAVE and _SAVE_IF_UNCHANGED."""
    return {
        "attempt_id": attempt_id,
        "question_id": question_id,
        "seq": seq,
        "value": value,
        "client_at": given,
        "server_at": now,
        "source": "autosave",
        "of_attempt": attempt_id,
        "of_question": question_id,
    }


def _given_at(client_at: datetime | None, now: datetime) -> datetime:
    # The browser says when the answer was given (in server time); it can be earlier than now, never later.
    return now if client_at is None or client_at > now else client_at


def _check_seq(seq: Any) -> None:
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**31:
        raise DomainError("The save carries no valid sequence number.", field="seq")


def _time_up_message(attempt: Attempt) -> str:
    return (
        f"Time was up at {attempt.deadline:%H:%M:%S} UTC: this answer was not saved. "
        "Everything saved before the deadline is kept and scored."
    )


def save_answer(
    user: Identity,
    attempt_id: int,
    question_id: str,
    value: Any,
    seq: int,
    client_at: datetime | None = None,
    now: datetime | None = None,
) -> SaveReceipt:
    """Store one answer as its own row; accepted when given before the deadline and received in time."""
    now = now or now_utc()
    _check_seq(seq)
    attempt, questions = _lock_own_with_questions(user, attempt_id)
    if attempt.state != IN_PROGRESS:
        db.session.rollback()
        raise AttemptFinished("This attempt is already submitted: the answer was not saved.")
    if is_overdue(attempt, now):
        _finalize(attempt, now, by="server", questions=questions)
        db.session.commit()
        raise TimeUp(_time_up_message(attempt))
    given = _given_at(client_at, now)
    if now > save_cutoff(attempt) or given > attempt.deadline:
        db.session.rollback()
        if attempt.on_expiry == "grace" and now <= submit_cutoff(attempt):
            raise TimeUp("Time is up: answers can no longer be changed. Submit your attempt now.")
        raise TimeUp(_time_up_message(attempt))
    question = questions.get(question_id) if question_id in attempt.question_ids else None
    if question is None:
        db.session.rollback()
        raise DomainError("That question is not part of this attempt.", field="question")
    try:
        normalized = normalize_answer(question, value)
    except AnswerInvalid as error:
        db.session.rollback()
        raise DomainError(str(error), field="value") from error
    # One statement stores the save and reads the newest sequence number for the question. It runs while this
    # transaction holds the attempt's lock, so every earlier save of the attempt is visible to it.
    newest = db.session.execute(
        _INSERT_SAVE, _save_row(attempt.id, question_id, seq, normalized, given, now)
    ).scalar_one()
    deadline, cutoff = attempt.deadline, submit_cutoff(attempt)
    db.session.commit()
    return SaveReceipt(question_id, seq, now, newest is None or seq >= newest, deadline, cutoff)

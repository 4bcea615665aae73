"""Saving one answer, decided under the attempt's row lock (save_answer): the rule that the one-statement autosave
(lms.quizzes.fast) must agree with, and the pieces the two share (the receipt, the row, the order of saves).

The order of a question's saves is the server's: a save is the answer only when its sequence number is above every
one stored for the question when it arrives. One that is not (a stale tab, an old copy arriving late, a retry of a
save already stored) is kept as a row, answered `current: false` with the answer that stands (its value and
sequence number, for the page to show), and never becomes the answer: the answer is the highest sequence number,
the first stored of equals (lms.quizzes.attempts.current_answers), which is what a reload shows and what is scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lms.accounts.models import Identity
from lms.clock import now_utc
from lms.errors import DomainError
from lms.extensions import db
from lms.quizzes.attempts import AttemptFinished, SavedAnswer, TimeUp, _lock_own_with_questions, answer_now
from lms.quizzes.deadlines import Timed, is_overdue, save_cutoff, submit_cutoff
from lms.quizzes.finishing import _finalize
from lms.quizzes.models import IN_PROGRESS, AnswerSave, Attempt
from lms.quizzes.scoring import AnswerInvalid, normalize_answer
from lms.timezones import format_time


@dataclass(frozen=True)
class SaveReceipt:
    question_id: str
    seq: int
    saved_at: datetime
    current: bool  # False: not newer than the answer stored before it (kept, never used)
    deadline: datetime
    submit_cutoff: datetime
    answer_value: Any  # the question's answer now: this save's value, or the one that stands when not current
    answer_seq: int


_saves = AnswerSave.__table__
# A stored save of the question (of_attempt, of_question) whose sequence number is not below the new one's
# (of_seq): one above it if there is any (never the new row itself), else the first stored of equals. The new save
# is the newest when there is none, or when it is the new row itself: a statement sees its own new row on SQLite
# and not on PostgreSQL, and every earlier save has a smaller id, so both read the same way (_is_newest).
# Two index probes (ix_quiz_answer_saves_attempt_question), each stopping at its first row: the minimum id of every
# save at or above of_seq, as this once was, read them all, and a question saved thousands of times (an autosave
# per keystroke, the throughput benchmark) made each save slower than the one before (README, "Benchmarks").
_FIRST_NOT_OLDER = sa.func.coalesce(
    sa.select(_saves.c.id)
    .where(
        _saves.c.attempt_id == sa.bindparam("of_attempt"),
        _saves.c.question_id == sa.bindparam("of_question"),
        _saves.c.seq > sa.bindparam("of_seq"),
    )
    .limit(1)
    .scalar_subquery(),
    sa.select(sa.func.min(_saves.c.id))
    .where(
        _saves.c.attempt_id == sa.bindparam("of_attempt"),
        _saves.c.question_id == sa.bindparam("of_question"),
        _saves.c.seq == sa.bindparam("of_seq"),
    )
    .scalar_subquery(),
)
# Stores one save and returns its id with _FIRST_NOT_OLDER. Values come as parameters (_save_row).
_INSERT_SAVE = sa.insert(_saves).returning(_saves.c.id, _FIRST_NOT_OLDER)


def _is_newest(own_id: int, first_not_older: int | None) -> bool:
    return first_not_older is None or first_not_older == own_id


def _receipt(
    current: bool, question_id: str, seq: int, value: Any, now: datetime, attempt: Timed,
    standing: SavedAnswer | None = None,
) -> SaveReceipt:  # fmt: skip
    """The receipt of a stored save; `standing` is the question's answer, read when this save is not current."""
    value_now, seq_now = (value, seq) if current or standing is None else (standing.value, standing.seq)
    return SaveReceipt(
        question_id, seq, now, current, attempt.deadline, submit_cutoff(attempt), value_now, seq_now
    )


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
        "of_seq": seq,
    }


def _given_at(client_at: datetime | None, now: datetime) -> datetime:
    # The browser says when the answer was given (in server time); it can be earlier than now, never later.
    return now if client_at is None or client_at > now else client_at


def _check_seq(seq: Any) -> None:
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**31:
        raise DomainError("The save carries no valid sequence number.", field="seq")


def _time_up_message(attempt: Attempt) -> str:
    return (
        f"Time was up at {format_time(attempt.deadline, 'time')}: this answer was not saved. "
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
    # One statement stores the save and finds whether it is the question's newest. It runs while this transaction
    # holds the attempt's lock, so every earlier save of the attempt is visible to it.
    row = _save_row(attempt.id, question_id, seq, normalized, given, now)
    current = _is_newest(*db.session.execute(_INSERT_SAVE, row).one())
    standing = None if current else answer_now(attempt.id, question_id)
    receipt = _receipt(current, question_id, seq, normalized, now, attempt, standing)
    db.session.commit()
    return receipt

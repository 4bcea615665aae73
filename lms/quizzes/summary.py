"""Where a student stands in an attempt, question by question, for the navigator and the summary page before
submitting (summarize_attempt), and the questions flagged for review, kept with the attempt (flag_question).

Flags change nothing that is scored: they are the student's marks to come back to. They are set under the
attempt's row lock like every change to it, while the attempt is in progress; a plain form's flag button (no
JavaScript) also keeps the answers that form carries (keep_form_and_flag), as the form's submit would."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lms.accounts.models import User
from lms.clock import now_utc
from lms.errors import DomainError
from lms.extensions import db
from lms.quizzes.attempts import (
    AttemptFinished,
    SavedAnswer,
    TimeUp,
    _lock_own_with_questions,
    is_answered,
)
from lms.quizzes.deadlines import is_overdue, save_cutoff
from lms.quizzes.finishing import _finalize, _record_form_answers, _submitted_by_server
from lms.quizzes.models import IN_PROGRESS, Attempt


@dataclass(frozen=True)
class QuestionMark:
    """One question as the navigator shows it: its number on the page, answered or not, flagged or not."""

    number: int
    question_id: str
    answered: bool
    flagged: bool

    @property
    def status(self) -> str:
        """answered; not answered; answered, flagged for review ..."""
        text = "answered" if self.answered else "not answered"
        return f"{text}, flagged for review" if self.flagged else text


@dataclass(frozen=True)
class AttemptSummary:
    marks: list[QuestionMark]

    @property
    def answered(self) -> list[QuestionMark]:
        return [m for m in self.marks if m.answered]

    @property
    def unanswered(self) -> list[QuestionMark]:
        return [m for m in self.marks if not m.answered]

    @property
    def flagged(self) -> list[QuestionMark]:
        return [m for m in self.marks if m.flagged]


def summarize_attempt(attempt: Attempt, saved: dict[str, SavedAnswer]) -> AttemptSummary:
    """Each question of the attempt in its order, answered (by what is saved) and flagged or not."""
    flagged = set(attempt.flagged or [])
    return AttemptSummary(
        [
            QuestionMark(number, qid, is_answered(saved.get(qid)), qid in flagged)
            for number, qid in enumerate(attempt.question_ids, 1)
        ]
    )


def _lock_running(user: User, attempt_id: int, now: datetime) -> tuple[Attempt, dict[str, dict[str, Any]]]:
    """The student's attempt, locked, in progress and not past its cutoff (finalized then, with TimeUp)."""
    attempt, questions = _lock_own_with_questions(user, attempt_id, with_quiz=True)
    if attempt.state != IN_PROGRESS:
        db.session.rollback()
        raise AttemptFinished("This attempt is already submitted.")
    if is_overdue(attempt, now):
        _finalize(attempt, now, by="server", questions=questions)
        db.session.commit()
        raise TimeUp(_submitted_by_server(attempt))
    return attempt, questions


def _set_flag(attempt: Attempt, question_id: str, flagged: bool) -> list[str]:
    if question_id not in attempt.question_ids:
        db.session.rollback()
        raise DomainError("That question is not part of this attempt.", field="question")
    marked = set(attempt.flagged or [])
    marked = marked | {question_id} if flagged else marked - {question_id}
    attempt.flagged = [
        qid for qid in attempt.question_ids if qid in marked
    ]  # a new list: JSON is not tracked
    return attempt.flagged


def flag_question(
    user: User, attempt_id: int, question_id: str, flagged: bool, now: datetime | None = None
) -> list[str]:
    """Flag a question for review (or clear its flag); returns the flagged questions in the attempt's order."""
    if not isinstance(flagged, bool):
        raise DomainError('Send "flagged": true or false.', field="flagged")
    now = now or now_utc()
    attempt, _ = _lock_running(user, attempt_id, now)
    marks = _set_flag(attempt, question_id, flagged)
    db.session.commit()
    return marks


def keep_form_and_flag(
    user: User, attempt_id: int, form_answers: dict[str, Any], question_id: str, now: datetime | None = None
) -> bool:
    """The plain form's flag button: keep the answers the form carries (while saves are accepted, as its submit
    would), and turn the question's flag over; returns whether it is flagged now."""
    now = now or now_utc()
    attempt, questions = _lock_running(user, attempt_id, now)
    if now <= save_cutoff(attempt):
        _record_form_answers(attempt, questions, form_answers, now)
    flagged = question_id not in (attempt.flagged or [])
    _set_flag(attempt, question_id, flagged)
    db.session.commit()
    return flagged

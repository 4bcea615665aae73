"""What a student sees of a submitted attempt: the score always; their answers and the correct ones as the quiz's
review policy says, and, for a module quiz, the correct answers only once the student has passed it or has no
attempt left (a checkpoint taken again should test what was learned, not what the last review showed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from lms.clock import now_utc
from lms.extensions import db
from lms.quizzes.attempts import attempts_of
from lms.quizzes.models import SUBMITTED, Attempt, Quiz, QuizOverride

HELD_BACK = "The correct answers are shown once you pass this quiz or have used all your attempts."


@dataclass(frozen=True)
class Review:
    level: str  # "score_only", "answers" or "correct_answers"
    held_back: str | None = None  # why the correct answers are not shown (yet), in words


def decide_review(quiz: Quiz, *, passed_once: bool, attempts_left: int | None, now: datetime) -> Review:
    """The review level for a student: `attempts_left` None when attempts are unlimited."""
    if quiz.review_after == "close" and quiz.closes_at is not None and now < quiz.closes_at:
        return Review("score_only")
    if quiz.kind == "module" and quiz.review == "correct_answers" and not passed_once and attempts_left != 0:
        return Review("answers", HELD_BACK)
    return Review(quiz.review)


def review_of(attempt: Attempt, now: datetime | None = None) -> Review:
    """The review of this attempt for its student, as things stand now (it only reads)."""
    quiz = attempt.quiz
    attempts = attempts_of(attempt.user_id, quiz.id)
    passed_once = any(a.state == SUBMITTED and a.passed for a in attempts)
    attempts_left = None
    if quiz.attempts_allowed:
        extra = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(QuizOverride)
            .where(
                QuizOverride.quiz_id == quiz.id,
                QuizOverride.user_id == attempt.user_id,
                QuizOverride.kind == "extra_attempt",
            )
        )
        attempts_left = max(0, quiz.attempts_allowed + int(extra or 0) - len(attempts))
    return decide_review(quiz, passed_once=passed_once, attempts_left=attempts_left, now=now or now_utc())

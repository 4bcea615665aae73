"""Staff decisions about one student and a quiz: more time for an attempt in progress, one more attempt, the quiz
reopened after its close; and finding the student by email or id."""

from __future__ import annotations

from datetime import datetime, timedelta

from lms.accounts.models import User
from lms.accounts.operations import find_user_by_email
from lms.audit import record_event
from lms.clock import now_utc
from lms.errors import DomainError, NotFound
from lms.extensions import db
from lms.quizzes.attempts import AttemptFinished, TimeUp, _lock_attempt
from lms.quizzes.deadlines import is_overdue
from lms.quizzes.finishing import _finalize
from lms.quizzes.models import IN_PROGRESS, Attempt, Quiz, QuizOverride

MAX_EXTRA_MINUTES = 24 * 60


def add_extra_time(actor: User, attempt_id: int, minutes: int, now: datetime | None = None) -> Attempt:
    """Give an attempt in progress more time (also past the quiz's closing time: a staff decision)."""
    now = now or now_utc()
    if not isinstance(minutes, int) or not 1 <= minutes <= MAX_EXTRA_MINUTES:
        raise DomainError(f"Add between 1 and {MAX_EXTRA_MINUTES} minutes.", field="minutes")
    attempt = _lock_attempt(attempt_id)
    if attempt is None:
        db.session.rollback()
        raise NotFound("There is no such attempt.")
    if attempt.state != IN_PROGRESS:
        db.session.rollback()
        raise AttemptFinished("This attempt is already submitted; grant an extra attempt instead.")
    if is_overdue(attempt, now):
        _finalize(attempt, now, by="server")
        db.session.commit()
        raise TimeUp(
            "This attempt's time had already run out, so it has been submitted. Grant an extra attempt."
        )
    old_deadline = attempt.deadline
    attempt.extra_seconds += minutes * 60
    attempt.deadline = attempt.deadline + timedelta(minutes=minutes)
    record_event(
        actor.id, "quiz.extra_time_added", "quiz_attempt", attempt.id,
        minutes=minutes, old_deadline=old_deadline.isoformat(), new_deadline=attempt.deadline.isoformat(),
    )  # fmt: skip
    db.session.commit()
    return attempt


def grant_extra_attempt(actor: User, quiz: Quiz, student: User, note: str = "") -> QuizOverride:
    override = QuizOverride(
        quiz_id=quiz.id, user_id=student.id, kind="extra_attempt", note=note.strip()[:500],
        granted_by_id=actor.id, granted_at=now_utc(),
    )  # fmt: skip
    db.session.add(override)
    db.session.flush()
    record_event(
        actor.id, "quiz.extra_attempt_granted", "user", student.id, quiz=quiz.slug, override=override.id
    )
    db.session.commit()
    return override


def reopen_quiz_for(
    actor: User, quiz: Quiz, student: User, until: datetime, note: str = "", now: datetime | None = None
) -> QuizOverride:
    now = now or now_utc()
    if until.tzinfo is None:
        raise DomainError("Give the reopening time with its time zone.", field="until")
    if until <= now:
        raise DomainError("Choose a time in the future to reopen the quiz until.", field="until")
    override = QuizOverride(
        quiz_id=quiz.id, user_id=student.id, kind="reopen", until=until, note=note.strip()[:500],
        granted_by_id=actor.id, granted_at=now,
    )  # fmt: skip
    db.session.add(override)
    db.session.flush()
    record_event(
        actor.id, "quiz.reopened_for_student", "user", student.id, quiz=quiz.slug, until=until.isoformat()
    )
    db.session.commit()
    return override


def find_student(email_or_id: str) -> User:
    text = email_or_id.strip()
    user = db.session.get(User, int(text)) if text.isdigit() else find_user_by_email(text)
    if user is None:
        raise DomainError("No account has that email.", field="student")
    return user

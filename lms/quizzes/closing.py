"""When a synced quiz file moves the quiz's closing time: what happens to the attempts already running.

The rule, decided once and told to the student on the attempt's page (templates/quizzes/take.html):
- moved later (or removed): every running attempt that the old close had cut short gets the time back, up to its
  own limit (the quiz's limit when it started x the student's accommodation, plus any time staff added); the new
  close still cuts it if it comes first;
- moved earlier: a running attempt keeps the deadline it has. Time a student was given when they started is never
  taken away; the new close applies to attempts started after it.

An attempt whose deadline has already passed is not running: its time stays up (it is finished with what was
saved). A change is one conditional UPDATE per attempt (still in progress, still at the deadline read), so it never
races a save or a submit, which take the attempt's row lock; the one-statement autosave sees the new deadline and
sends the save the locked way."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from lms.audit import record_event
from lms.extensions import db
from lms.quizzes.models import IN_PROGRESS, Attempt, Quiz


def full_deadline(attempt: Attempt, closes_at: datetime | None) -> tuple[datetime, bool]:
    """The deadline the attempt would have had with this closing time, and whether that close cuts it: its own
    limit (x accommodation) from its start, cut by the close if that comes first, plus the time staff added (which
    may run past any close)."""
    natural = attempt.started_at + timedelta(
        seconds=round(attempt.time_limit_seconds * attempt.accommodation_factor)
    )
    cut = closes_at is not None and closes_at < natural
    end = closes_at if closes_at is not None and cut else natural
    return end + timedelta(seconds=attempt.extra_seconds), cut


def extend_cut_attempts(quiz: Quiz, old_closes_at: datetime | None, now: datetime) -> int:
    """Give back the time a later closing time allows to the quiz's running attempts the old one had cut short;
    returns how many were extended. Moving the close earlier changes no attempt (see the module's rule)."""
    if old_closes_at is None or (quiz.closes_at is not None and quiz.closes_at <= old_closes_at):
        return 0
    running = db.session.execute(
        sa.select(Attempt).where(
            Attempt.quiz_id == quiz.id,
            Attempt.state == IN_PROGRESS,
            Attempt.cut_by_close.is_(True),
            Attempt.deadline > now,
        )
    ).scalars()
    extended = 0
    for attempt in list(running):
        attempt_id, old_deadline = attempt.id, attempt.deadline
        new_deadline, still_cut = full_deadline(attempt, quiz.closes_at)
        if new_deadline <= old_deadline:
            continue
        changed = db.session.execute(
            sa.update(Attempt)
            .where(Attempt.id == attempt_id, Attempt.state == IN_PROGRESS, Attempt.deadline == old_deadline)
            .values(deadline=new_deadline, cut_by_close=still_cut)
            .execution_options(synchronize_session=False)
        ).rowcount
        db.session.expire(attempt)
        if changed:
            record_event(
                None, "quiz.attempt_extended_by_close", "quiz_attempt", attempt_id,
                old_deadline=old_deadline.isoformat(), new_deadline=new_deadline.isoformat(),
                closes_at=quiz.closes_at.isoformat() if quiz.closes_at else None,
            )  # fmt: skip
            extended += 1
    return extended

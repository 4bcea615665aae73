"""Starting an attempt: whether a student may start one now, and with how much time (plan_attempt); starting it
with its questions, their order and its deadline fixed (start_attempt).

A quiz follows the track's unlock order (lms.quizzes.unlocking): until it opens, starting is refused (QuizLocked)
and the plan says what is still missing. A wait between attempts that would end after the quiz closes means no
further attempt: the plan says so, and promises no start time."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa

from lms.accounts.models import User
from lms.audit import record_event
from lms.clock import now_utc
from lms.courses.models import Enrollment, Module
from lms.errors import DomainError
from lms.extensions import db
from lms.quizzes.attempts import attempts_of, current_version
from lms.quizzes.blueprint import Stratum, plan_draw, seen_counts
from lms.quizzes.deadlines import describe_duration
from lms.quizzes.finishing import finalize_overdue
from lms.quizzes.models import IN_PROGRESS, Attempt, Quiz, QuizOverride
from lms.quizzes.unlocking import ModuleToDo, decide_unlock
from lms.timezones import format_time


class QuizLocked(DomainError):
    """The quiz has not opened for this student in the track's order (its module, or every module for the final)."""


def _is_enrolled(user_id: int, track_id: int) -> bool:
    return (
        db.session.execute(
            sa.select(Enrollment.id).where(
                Enrollment.user_id == user_id, Enrollment.track_id == track_id, Enrollment.left_at.is_(None)
            )
        ).first()
        is not None
    )


def _overrides(quiz_id: int, user_id: int) -> list[QuizOverride]:
    return list(
        db.session.execute(
            sa.select(QuizOverride)
            .where(QuizOverride.quiz_id == quiz_id, QuizOverride.user_id == user_id)
            .order_by(QuizOverride.granted_at, QuizOverride.id)
        ).scalars()
    )


@dataclass
class AttemptPlan:
    """What starting now would give this student, and whether it is allowed (with the reason if not)."""

    allowed: bool
    reason: str | None
    seconds: int  # the time the attempt would have
    base_seconds: int  # the quiz's limit
    factor: float
    cut_by_close: bool
    closes_at: datetime | None
    in_progress: Attempt | None
    attempts: list[Attempt] = field(default_factory=list)
    attempts_allowed: int = 0  # 0: unlimited
    next_start_at: datetime | None = None
    # Not open yet in the track's order: what the student has still to complete, in the track with this slug.
    locked: bool = False
    missing: list[ModuleToDo] = field(default_factory=list)
    track_slug: str = ""
    quizzes_to_pass: list[str] = field(default_factory=list)
    link: tuple[str, str, dict[str, str]] | None = None
    counted_attempts: int | None = None  # attempts towards the limit, when not all of them count

    @property
    def extended(self) -> bool:
        return self.seconds > self.base_seconds

    @property
    def attempts_used(self) -> int:
        return len(self.attempts) if self.counted_attempts is None else self.counted_attempts

    @property
    def attempts_left(self) -> int | None:
        if not self.attempts_allowed:
            return None
        return max(0, self.attempts_allowed - self.attempts_used)


def open_window(
    quiz: Quiz, overrides: list[QuizOverride], now: datetime
) -> tuple[datetime | None, datetime | None]:
    """When the quiz opens and closes for this student: the quiz's times, or a staff reopening still to come."""
    reopened = [o.until for o in overrides if o.kind == "reopen" and o.until is not None and o.until > now]
    return (None, max(reopened)) if reopened else (quiz.opens_at, quiz.closes_at)


def closes_for(user_id: int, quiz: Quiz, now: datetime | None = None) -> datetime | None:
    """When the quiz closes for this student now (None: it does not close)."""
    return open_window(quiz, _overrides(quiz.id, user_id), now or now_utc())[1]


def _count_attempts(plan: AttemptPlan, since: datetime | None) -> int:
    """The attempts that count towards the limit: all, or those started at or after `since` (kept in the plan)."""
    if since is not None:
        plan.counted_attempts = sum(1 for a in plan.attempts if a.started_at >= since)
    return plan.attempts_used


def plan_attempt(user: User, quiz: Quiz, now: datetime | None = None) -> AttemptPlan:
    now = now or now_utc()
    finalize_overdue(now, quiz_id=quiz.id, user_id=user.id)
    attempts = attempts_of(user.id, quiz.id)
    overrides = _overrides(quiz.id, user.id)
    extra_attempts = sum(1 for o in overrides if o.kind == "extra_attempt")
    opens_at, closes_at = open_window(quiz, overrides, now)

    factor = float(user.accommodation_factor or 1.0)
    natural = round(quiz.time_limit_seconds * factor)
    seconds, cut = natural, False
    if closes_at is not None and now + timedelta(seconds=natural) > closes_at:
        seconds, cut = max(0, int((closes_at - now).total_seconds())), True
    allowed_total = quiz.attempts_allowed + extra_attempts if quiz.attempts_allowed else 0
    plan = AttemptPlan(
        allowed=False,
        reason=None,
        seconds=seconds,
        base_seconds=quiz.time_limit_seconds,
        factor=factor,
        cut_by_close=cut,
        closes_at=closes_at,
        in_progress=next((a for a in attempts if a.state == IN_PROGRESS), None),
        attempts=attempts,
        attempts_allowed=allowed_total,
    )
    # The end of the last attempt: its deadline when its time ran out (lms.quizzes.finishing.TIME_RAN_OUT).
    last_done = max((a.submitted_at for a in attempts if a.submitted_at), default=None)
    delay = timedelta(seconds=quiz.delay_between_attempts_seconds)
    if plan.in_progress is not None:
        plan.allowed = True
    elif not _is_enrolled(user.id, quiz.track_id):
        plan.reason = "Enrol in this quiz's track to take it."
    elif opens_at is not None and now < opens_at:
        plan.reason = f"This quiz opens on {format_time(opens_at, 'on')}."
    elif closes_at is not None and now >= closes_at:
        plan.reason = "This quiz is closed."
    elif not (unlock := decide_unlock(user, quiz)).open:
        plan.locked, plan.reason, plan.missing = True, unlock.reason, unlock.missing
        plan.track_slug, plan.quizzes_to_pass = unlock.track_slug, unlock.quizzes_to_pass
        plan.link = unlock.link
    elif allowed_total and _count_attempts(plan, unlock.attempts_since) >= allowed_total:
        since = f" since {format_time(unlock.attempts_since, 'date')}" if unlock.attempts_since is not None else ""
        plan.reason = f"You have used all {allowed_total} attempt{'s' if allowed_total != 1 else ''} at this quiz{since}."
    elif last_done and now < last_done + delay and closes_at is not None and last_done + delay >= closes_at:
        plan.reason = (
            f"No further attempt is possible: the quiz closes on {format_time(closes_at, 'on')}, before the "
            f"{describe_duration(delay.total_seconds())} wait after your last attempt is over."
        )
    elif last_done and now < last_done + delay:
        plan.next_start_at = last_done + delay
        wait = describe_duration((plan.next_start_at - now).total_seconds())
        plan.reason = (
            f"You can start your next attempt on {format_time(plan.next_start_at, 'on')} (in {wait})."
        )
    elif seconds < 1:
        plan.reason = "This quiz is closing: there is no time left for an attempt."
    else:
        plan.allowed = True
    return plan


def _module_slug(quiz: Quiz) -> str | None:
    if quiz.module_id is None:
        return None
    return db.session.execute(sa.select(Module.slug).where(Module.id == quiz.module_id)).scalar_one_or_none()


def _bank_layouts(user_id: int, quiz: Quiz) -> list[list[dict]]:
    """The items this student was shown in attempts at the quiz this one draws from (none without a bank)."""
    if not quiz.bank:
        return []
    return list(
        db.session.execute(
            sa.select(Attempt.layout)
            .join(Quiz, Quiz.id == Attempt.quiz_id)
            .where(Attempt.user_id == user_id, Quiz.slug == quiz.bank)
        ).scalars()
    )


def start_attempt(user: User, quiz: Quiz, now: datetime | None = None) -> Attempt:
    """Start an attempt, or return the one in progress: the questions, their order and the deadline fixed here."""
    now = now or now_utc()
    plan = plan_attempt(user, quiz, now)
    if plan.in_progress is not None:
        return plan.in_progress
    if plan.locked:
        raise QuizLocked(plan.reason or "This quiz is not open to you yet.")
    if not plan.allowed:
        raise DomainError(plan.reason or "You cannot start this quiz now.")
    version = current_version(quiz)
    rng = secrets.SystemRandom()
    pool = list(version.questions)
    # Stratified by the blueprint, retired items left out, the items of earlier attempts drawn last (those of the
    # bank's own attempts too: a recertification prefers items the student did not meet in the final).
    layouts = [a.layout for a in plan.attempts] + _bank_layouts(user.id, quiz)
    drawn = plan_draw(
        pool, [Stratum.from_dict(s) for s in quiz.blueprint or []], quiz.draw,
        default_module=_module_slug(quiz), seen=seen_counts(layouts), rng=rng,
    )  # fmt: skip
    if quiz.shuffle_questions:
        rng.shuffle(drawn)
    else:
        order = {q["id"]: i for i, q in enumerate(pool)}
        drawn.sort(key=lambda q: order[q["id"]])
    layout = []
    for question in drawn:
        choice_ids = [c["id"] for c in question.get("choices", [])]
        if quiz.shuffle_choices:
            rng.shuffle(choice_ids)
        layout.append({"question": question["id"], "choices": choice_ids})
    attempt = Attempt(
        quiz_id=quiz.id,
        quiz_version_id=version.id,
        user_id=user.id,
        number=len(plan.attempts) + 1,
        state=IN_PROGRESS,
        started_at=now,
        time_limit_seconds=quiz.time_limit_seconds,
        accommodation_factor=plan.factor,
        cut_by_close=plan.cut_by_close,
        deadline=now + timedelta(seconds=plan.seconds),
        on_expiry=quiz.on_expiry,
        grace_seconds=quiz.grace_seconds,
        layout=layout,
    )
    db.session.add(attempt)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        # Another tab started one at the same moment: resume that one.
        db.session.rollback()
        existing = db.session.execute(
            sa.select(Attempt).where(
                Attempt.user_id == user.id, Attempt.quiz_id == quiz.id, Attempt.state == IN_PROGRESS
            )
        ).scalar_one_or_none()
        if existing is None:
            raise DomainError("Another attempt was started at the same moment. Reload the page.") from None
        return existing
    record_event(
        user.id, "quiz.attempt_started", "quiz_attempt", attempt.id,
        quiz=quiz.slug, version=version.number, deadline=attempt.deadline.isoformat(), factor=plan.factor,
    )  # fmt: skip
    db.session.commit()
    return attempt

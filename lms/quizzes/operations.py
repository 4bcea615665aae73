"""Quiz rules as verb-first functions: start, save, submit, finalize, extra time, overrides, standing.

Every change to an attempt happens under a lock on its row (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite),
so a save racing a submit is either stored before the submit scores it, or refused: never stored and left
unscored. The busiest change, an autosave, is one statement that takes that lock itself (save_answer_at_once). Times come from the caller or lms.clock.now_utc().
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import contains_eager

from lms import events
from lms.accounts.access import Claim, claim_holds
from lms.accounts.models import READER_COLUMNS, Identity, Reader, User
from lms.accounts.operations import read_reader_with
from lms.audit import record_event
from lms.clock import now_utc
from lms.courses.models import Enrollment
from lms.database import labelled_columns, single_write
from lms.errors import DomainError, NotFound
from lms.extensions import db
from lms.page_cache import forget_with_pages, page_cache_of
from lms.quizzes.models import IN_PROGRESS, SUBMITTED, AnswerSave, Attempt, Quiz, QuizOverride, QuizVersion
from lms.quizzes.scoring import AnswerInvalid, AttemptScore, normalize_answer, score_attempt

MAX_EXTRA_MINUTES = 24 * 60


class TimeUp(DomainError):
    """Saving or submitting after the deadline (and any grace): refused, what was saved stays."""


class AttemptFinished(DomainError):
    """The attempt is already submitted."""


# -- time ------------------------------------------------------------------------------------------------------


def network_grace() -> timedelta:
    return timedelta(seconds=current_app.config["QUIZ_NETWORK_GRACE_SECONDS"])


def save_cutoff(attempt: Attempt | AttemptRow) -> datetime:
    """The last moment a save may arrive (it must also have been given before the deadline)."""
    return attempt.deadline + network_grace()


def submit_cutoff(attempt: Attempt | AttemptRow) -> datetime:
    """The last moment a submission is accepted; after it the server finalizes the attempt itself."""
    grace = timedelta(seconds=attempt.grace_seconds) if attempt.on_expiry == "grace" else timedelta(0)
    return attempt.deadline + network_grace() + grace


def is_overdue(attempt: Attempt, now: datetime) -> bool:
    return attempt.state == IN_PROGRESS and now > submit_cutoff(attempt)


def describe_duration(seconds: float) -> str:
    """27 minutes; 1 hour 5 minutes; 45 seconds; 2 minutes 30 seconds."""
    seconds = max(0, round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if minutes:
        parts.append(f"{minutes} minute{'s' if minutes != 1 else ''}")
    if secs or not parts:
        parts.append(f"{secs} second{'s' if secs != 1 else ''}")
    return " ".join(parts)


def format_points(value: float | None) -> str:
    """5 rather than 5.0; 2.5; 1.33."""
    if value is None:
        return "-"
    return f"{round(float(value), 2):g}"


def short_duration(seconds: float) -> str:
    """45 min; 1 h 5 min; 30 s (for "45 min, extended from 30")."""
    seconds = max(0, round(seconds))
    if seconds % 60:
        return describe_duration(seconds).replace(" minutes", " min").replace(" minute", " min")
    minutes = seconds // 60
    return f"{minutes} min"


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


def current_answers(attempt_id: int) -> dict[str, SavedAnswer]:
    """The answer per question: the save with the highest sequence number (the newest row on a tie)."""
    rows = db.session.execute(
        sa.select(
            AnswerSave.question_id, AnswerSave.value, AnswerSave.seq, AnswerSave.id, AnswerSave.server_at
        )
        .where(AnswerSave.attempt_id == attempt_id)
        .order_by(AnswerSave.seq, AnswerSave.id)
    ).all()
    return {row.question_id: SavedAnswer(row.value, row.seq, row.id, row.server_at) for row in rows}


def attempts_of(user_id: int, quiz_id: int) -> list[Attempt]:
    return list(
        db.session.execute(
            sa.select(Attempt)
            .where(Attempt.user_id == user_id, Attempt.quiz_id == quiz_id)
            .order_by(Attempt.number)
        ).scalars()
    )


def counting_attempt(grading: str, attempts: Iterable[Attempt]) -> Attempt | None:
    """The attempt whose result stands: the highest score (the earliest of equals) or the last submitted."""
    done = [a for a in attempts if a.state == SUBMITTED]
    if not done:
        return None
    if grading == "last":
        return max(done, key=lambda a: a.number)
    return max(done, key=lambda a: (a.percent or 0.0, -a.number))


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

    @property
    def extended(self) -> bool:
        return self.seconds > self.base_seconds

    @property
    def attempts_left(self) -> int | None:
        if not self.attempts_allowed:
            return None
        return max(0, self.attempts_allowed - len(self.attempts))


def plan_attempt(user: User, quiz: Quiz, now: datetime | None = None) -> AttemptPlan:
    now = now or now_utc()
    finalize_overdue(now, quiz_id=quiz.id, user_id=user.id)
    attempts = attempts_of(user.id, quiz.id)
    overrides = _overrides(quiz.id, user.id)
    extra_attempts = sum(1 for o in overrides if o.kind == "extra_attempt")
    reopened = [o.until for o in overrides if o.kind == "reopen" and o.until is not None and o.until > now]
    opens_at, closes_at = quiz.opens_at, quiz.closes_at
    if reopened:
        opens_at, closes_at = None, max(reopened)

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
    last_done = max((a.submitted_at for a in attempts if a.submitted_at), default=None)
    if plan.in_progress is not None:
        plan.allowed = True
    elif not _is_enrolled(user.id, quiz.track_id):
        plan.reason = "Enrol in this quiz's track to take it."
    elif opens_at is not None and now < opens_at:
        plan.reason = f"This quiz opens on {opens_at:%Y-%m-%d at %H:%M} UTC."
    elif closes_at is not None and now >= closes_at:
        plan.reason = "This quiz is closed."
    elif allowed_total and len(attempts) >= allowed_total:
        plan.reason = (
            f"You have used all {allowed_total} attempt{'s' if allowed_total != 1 else ''} at this quiz."
        )
    elif last_done and now < last_done + timedelta(seconds=quiz.delay_between_attempts_seconds):
        plan.next_start_at = last_done + timedelta(seconds=quiz.delay_between_attempts_seconds)
        wait = describe_duration((plan.next_start_at - now).total_seconds())
        plan.reason = (
            f"You can start your next attempt on {plan.next_start_at:%Y-%m-%d at %H:%M} UTC (in {wait})."
        )
    elif seconds < 1:
        plan.reason = "This quiz is closing: there is no time left for an attempt."
    else:
        plan.allowed = True
    return plan


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


# -- taking a quiz ---------------------------------------------------------------------------------------------


def start_attempt(user: User, quiz: Quiz, now: datetime | None = None) -> Attempt:
    """Start an attempt, or return the one in progress: the questions, their order and the deadline fixed here."""
    now = now or now_utc()
    plan = plan_attempt(user, quiz, now)
    if plan.in_progress is not None:
        return plan.in_progress
    if not plan.allowed:
        raise DomainError(plan.reason or "You cannot start this quiz now.")
    version = current_version(quiz)
    rng = secrets.SystemRandom()
    pool = list(version.questions)
    drawn = rng.sample(pool, quiz.draw) if quiz.draw < len(pool) else pool
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


@dataclass(frozen=True)
class SaveReceipt:
    question_id: str
    seq: int
    saved_at: datetime
    current: bool  # False: a newer save for this question had already arrived (this one is kept, not used)
    deadline: datetime
    submit_cutoff: datetime


@forget_with_pages
@functools.lru_cache(maxsize=256)
def _question_pool(version_id: int, content_hash: str) -> dict[str, dict[str, Any]]:
    """A version's questions by id, read once per process: a version's questions never change (a change to the
    file makes a new version), and the content hash in the key is the SHA-256 of those very questions."""
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


@dataclass(frozen=True, slots=True)
class AttemptRow:
    """An attempt as a save decides on it: read with the student who is signed in, outside any transaction and
    before any lock, and kept per process (known_attempt). save_answer_at_once re-checks, under the lock, the
    parts that can change (the state and the deadline); the others never change after the attempt starts."""

    id: int
    user_id: int
    quiz_version_id: int
    state: str
    deadline: datetime
    on_expiry: str
    grace_seconds: int
    question_ids: frozenset[str]
    content_hash: str


_attempts, _versions, _users = Attempt.__table__, QuizVersion.__table__, User.__table__
_ATTEMPT_ROW = (
    "id",
    "user_id",
    "quiz_version_id",
    "state",
    "deadline",
    "on_expiry",
    "grace_seconds",
    "layout",
)
# Built once: every autosave runs it. Who is signed in and their attempt (none if it is not theirs), with its
# version's content hash, in one statement and one round trip.
_READER_AND_ATTEMPT = (
    sa.select(
        *labelled_columns(User, READER_COLUMNS),
        *labelled_columns(Attempt, _ATTEMPT_ROW),
        _versions.c.content_hash,
    )
    .select_from(
        _users.outerjoin(
            _attempts, (_attempts.c.id == sa.bindparam("attempt_id")) & (_attempts.c.user_id == _users.c.id)
        ).outerjoin(_versions, _versions.c.id == _attempts.c.quiz_version_id)
    )
    .where(_users.c.id == sa.bindparam("user_id"))
)
_LAYOUT = _ATTEMPT_ROW.index("layout")


def read_reader_and_attempt(user_id: int, attempt_id: int) -> tuple[Reader, AttemptRow | None] | None:
    """The account and its own attempt with this id (None when it has none), read outside any transaction;
    None when there is no such account. The attempt is kept for this process's next saves (known_attempt)."""
    found = read_reader_with(_READER_AND_ATTEMPT, {"user_id": user_id, "attempt_id": attempt_id})
    if found is None:
        return None
    reader, row = found
    if row[0] is None:
        return reader, None
    question_ids = frozenset(item["question"] for item in row[_LAYOUT])
    attempt = AttemptRow(*row[:_LAYOUT], question_ids, row[_LAYOUT + 1])
    page_cache_of(current_app, "attempts").put(attempt.id, attempt)
    return reader, attempt


ATTEMPTS_KEPT = 4096  # per process; a few hundred bytes each


def known_attempt(attempt_id: int) -> AttemptRow | None:
    """The attempt as this process last read it for a save (read_reader_and_attempt), if it has."""
    return page_cache_of(current_app, "attempts").get(attempt_id)  # type: ignore[no-any-return]


# Stores one save only if the claim holds (lms.accounts.access.claim_holds: the account signed in, active, with
# the session's version and an admitted role) and the attempt is still what the save was decided on (that
# account's, in progress, the same deadline), holding the attempt's row lock for the statement (FOR UPDATE), and
# returns the newest sequence number of the question among the saves committed before it began. No row back:
# the claim does not hold or the attempt changed in between.
_SAVE_IF_UNCHANGED = (
    sa.insert(_saves)
    .from_select(
        ["attempt_id", "question_id", "seq", "value", "client_at", "server_at", "source"],
        sa.select(
            _attempts.c.id,
            sa.bindparam("question_id", type_=_saves.c.question_id.type),
            sa.bindparam("seq", type_=_saves.c.seq.type),
            sa.bindparam("value", type_=_saves.c.value.type),
            sa.bindparam("client_at", type_=_saves.c.client_at.type),
            sa.bindparam("server_at", type_=_saves.c.server_at.type),
            sa.bindparam("source", type_=_saves.c.source.type),
        )
        .select_from(_attempts.join(_users, _users.c.id == _attempts.c.user_id))
        .where(
            claim_holds(_users),
            _attempts.c.id == sa.bindparam("attempt_id"),
            _attempts.c.state == IN_PROGRESS,
            _attempts.c.deadline == sa.bindparam("deadline", type_=_attempts.c.deadline.type),
        )
        .with_for_update(of=_attempts),
    )
    .returning(_NEWEST_SEQ)
)


def save_answer_at_once(
    claim: Claim,
    attempt: AttemptRow,
    question_id: str,
    value: Any,
    seq: int,
    client_at: datetime | None = None,
    now: datetime | None = None,
) -> SaveReceipt | None:
    """save_answer for the common case, a valid answer in time, in one statement (one round trip, instead of
    five with the account's): decided on `attempt` as read before, stored only if the claim holds (the statement
    checks who is signed in: lms.accounts.access.tries_claimed) and the attempt has not changed since, under its
    row lock like every change to it. None when anything else is the case (late, finished, an unknown question,
    an invalid answer, the attempt changed, the claim does not hold): save_answer then decides under the lock and
    says why. A save racing a submit is still stored before the submit scores it, or not at all."""
    now = now or now_utc()
    _check_seq(seq)
    given = _given_at(client_at, now)
    if attempt.state != IN_PROGRESS or attempt.user_id != claim.user_id:
        return None
    if now > save_cutoff(attempt) or given > attempt.deadline or question_id not in attempt.question_ids:
        return None
    question = _question_pool(attempt.quiz_version_id, attempt.content_hash).get(question_id)
    if question is None:
        return None
    try:
        normalized = normalize_answer(question, value)
    except AnswerInvalid:
        return None
    with single_write() as connection:
        row = _save_row(attempt.id, question_id, seq, normalized, given, now)
        stored = connection.execute(
            _SAVE_IF_UNCHANGED, {**row, **claim.params(), "deadline": attempt.deadline}
        ).first()
    if stored is None:  # decided again under the lock, with the attempt as it is now
        page_cache_of(current_app, "attempts").forget(attempt.id)
        return None
    newest = stored[0]
    return SaveReceipt(
        question_id, seq, now, newest is None or seq >= newest, attempt.deadline, submit_cutoff(attempt)
    )


def _check_seq(seq: Any) -> None:
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**31:
        raise DomainError("The save carries no valid sequence number.", field="seq")


def _time_up_message(attempt: Attempt) -> str:
    return (
        f"Time was up at {attempt.deadline:%H:%M:%S} UTC: this answer was not saved. "
        "Everything saved before the deadline is kept and scored."
    )


def submit_attempt(
    user: User,
    attempt_id: int,
    form_answers: dict[str, Any] | None = None,
    *,
    by: str = "student",
    now: datetime | None = None,
) -> Attempt:
    """Submit once: a second submit (double click, another tab, a retry) returns the same result.

    `form_answers` (question id -> raw value) come from the plain form when the page runs without JavaScript;
    they are recorded as saves before scoring. After the cutoff they are refused and the attempt is finalized
    with what was saved in time (TimeUp is raised after committing that)."""
    now = now or now_utc()
    attempt, questions = _lock_own_with_questions(user, attempt_id, with_quiz=True)
    if attempt.state == SUBMITTED:
        db.session.rollback()
        return attempt
    if is_overdue(attempt, now):
        _finalize(attempt, now, by="server", questions=questions)
        db.session.commit()
        raise TimeUp(
            f"Time was up at {attempt.deadline:%H:%M:%S} UTC, so your attempt was submitted automatically "
            "with the answers saved before the deadline."
        )
    if form_answers is not None:
        _record_form_answers(attempt, questions, form_answers, now)
    _finalize(attempt, now, by=by, questions=questions)
    db.session.commit()
    return attempt


def _record_form_answers(
    attempt: Attempt, questions: dict[str, dict[str, Any]], form_answers: dict[str, Any], now: datetime
) -> None:
    saved = current_answers(attempt.id)
    problems = []
    for question_id in attempt.question_ids:
        if question_id not in form_answers:
            continue
        try:
            value = normalize_answer(questions[question_id], form_answers[question_id])
        except AnswerInvalid as error:
            problems.append(str(error))
            continue
        previous = saved.get(question_id)
        if previous is None and value in (None, []):
            continue
        if previous is not None and previous.value == value:
            continue
        db.session.add(
            AnswerSave(
                attempt_id=attempt.id,
                question_id=question_id,
                seq=(previous.seq + 1) if previous else 0,
                value=value,
                client_at=now,
                server_at=now,
                source="form",
            )
        )
    if problems:
        db.session.rollback()
        raise DomainError(f"Some answers could not be read: {problems[0]} Nothing was submitted.")
    db.session.flush()


def _score_saved(
    attempt: Attempt, questions_by_id: dict[str, dict[str, Any]] | None = None
) -> tuple[dict[str, SavedAnswer], AttemptScore]:
    """The attempt's saved answers and the score they earn (against the version it was taken on)."""
    questions_by_id = questions_by_id if questions_by_id is not None else questions_of(attempt)
    questions = [questions_by_id[qid] for qid in attempt.question_ids]
    saved = current_answers(attempt.id)
    answers = {qid: answer.value for qid, answer in saved.items()}
    return saved, score_attempt(questions, answers, attempt.quiz.pass_percent)


def _finalize(
    attempt: Attempt, now: datetime, *, by: str, questions: dict[str, dict[str, Any]] | None = None
) -> None:
    """Score the attempt with its saved answers and close it (the caller holds the lock and commits)."""
    quiz = attempt.quiz
    saved, score = _score_saved(attempt, questions)
    answers = {qid: answer.value for qid, answer in saved.items()}
    attempt.results = {
        qid: {
            "answer": answers.get(qid),
            "points": s.points,
            "max": s.max_points,
            "save_id": saved[qid].save_id if qid in saved else None,
        }
        for qid, s in score.per_question.items()
    }
    attempt.score = score.points
    attempt.max_score = score.max_points
    attempt.percent = score.percent
    attempt.passed = score.passed
    attempt.state = SUBMITTED
    attempt.submitted_by = by
    attempt.submitted_at = min(now, submit_cutoff(attempt)) if by == "server" else now
    db.session.flush()
    record_event(
        attempt.user_id if by != "server" else None, "quiz.attempt_submitted", "quiz_attempt", attempt.id,
        by=by, score=score.points, max=score.max_points, percent=score.percent, passed=score.passed,
        answers=len(saved),
    )  # fmt: skip
    events.emit(events.ProgressChanged(user_id=attempt.user_id, track_id=quiz.track_id))


def finalize_overdue(
    now: datetime | None = None, *, quiz_id: int | None = None, user_id: int | None = None
) -> int:
    """Finalize every attempt past its cutoff with its saved answers; returns how many were finalized."""
    now = now or now_utc()
    stmt = sa.select(Attempt.id).where(Attempt.state == IN_PROGRESS, Attempt.deadline < now - network_grace())
    if quiz_id is not None:
        stmt = stmt.where(Attempt.quiz_id == quiz_id)
    if user_id is not None:
        stmt = stmt.where(Attempt.user_id == user_id)
    candidates = list(db.session.execute(stmt).scalars())
    done = 0
    for attempt_id in candidates:
        attempt = _lock_attempt(attempt_id)
        if attempt is not None and is_overdue(attempt, now):
            _finalize(attempt, now, by="server")
            db.session.commit()
            done += 1
        else:
            db.session.rollback()
    return done


def read_attempt(user: User, attempt_id: int, now: datetime | None = None, *, staff: bool = False) -> Attempt:
    """The attempt for showing it (its owner, or staff), finalized first if its time ran out."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or (attempt.user_id != user.id and not staff):
        raise NotFound("There is no such attempt.")
    now = now or now_utc()
    if is_overdue(attempt, now):
        finalize_overdue(now, quiz_id=attempt.quiz_id, user_id=attempt.user_id)
        db.session.refresh(attempt)
    return attempt


# -- standing, for other features ------------------------------------------------------------------------------


def has_passed_quiz(user_id: int, quiz_slug: str) -> bool:
    """Whether the attempt that counts (per the quiz's grading method) passed; used by certificates.

    It only reads, so other features may call it inside their own transaction (an event handler, say). An attempt
    whose time ran out but that nobody has finalized yet counts with the score its saved answers earn: the result
    never waits for the student to come back, and finalizing it later (which emits progress_changed) agrees."""
    quiz = db.session.execute(sa.select(Quiz).where(Quiz.slug == quiz_slug)).scalar_one_or_none()
    if quiz is None:
        return False
    now = now_utc()
    standing: list[tuple[int, float, bool]] = []
    for attempt in attempts_of(user_id, quiz.id):
        if attempt.state == SUBMITTED:
            standing.append((attempt.number, attempt.percent or 0.0, bool(attempt.passed)))
        elif is_overdue(attempt, now):
            _, score = _score_saved(attempt)
            standing.append((attempt.number, score.percent, score.passed))
    if not standing:
        return False
    if quiz.grading == "last":
        return max(standing)[2]
    return max(standing, key=lambda s: (s[1], -s[0]))[2]


@dataclass(frozen=True)
class QuizStatus:
    quiz: Quiz
    attempts: int
    in_progress_id: int | None
    counting_percent: float | None
    passed: bool

    @property
    def label(self) -> str:
        if self.in_progress_id:
            return "In progress"
        if self.passed:
            return "Passed"
        if self.attempts:
            return "Not passed yet"
        return "Not started"


def quiz_statuses(quizzes: list[Quiz], user_id: int | None) -> list[QuizStatus]:
    """Each quiz with this user's standing, in two queries whatever the number of quizzes."""
    by_quiz: dict[int, list[Attempt]] = {q.id: [] for q in quizzes}
    if user_id is not None and quizzes:
        finalize_overdue(user_id=user_id)
        rows = db.session.execute(
            sa.select(Attempt)
            .where(Attempt.user_id == user_id, Attempt.quiz_id.in_(list(by_quiz)))
            .order_by(Attempt.number)
        ).scalars()
        for attempt in rows:
            by_quiz[attempt.quiz_id].append(attempt)
    statuses = []
    for quiz in quizzes:
        attempts = by_quiz[quiz.id]
        counting = counting_attempt(quiz.grading, attempts)
        statuses.append(
            QuizStatus(
                quiz=quiz,
                attempts=len(attempts),
                in_progress_id=next((a.id for a in attempts if a.state == IN_PROGRESS), None),
                counting_percent=counting.percent if counting else None,
                passed=bool(counting and counting.passed),
            )
        )
    return statuses


def quizzes_for_track(track_id: int, user_id: int | None = None) -> list[QuizStatus]:
    """The track's quizzes (module quizzes by module position, then the final exam), with the user's standing."""
    from lms.courses.models import Module

    quizzes = list(
        db.session.execute(
            sa.select(Quiz)
            .outerjoin(Module, Module.id == Quiz.module_id)
            .where(Quiz.track_id == track_id, Quiz.retired_at.is_(None))
            .order_by(Quiz.kind.desc(), Module.position, Quiz.slug)
        ).scalars()
    )
    return quiz_statuses(quizzes, user_id)


def quizzes_for_student(user_id: int) -> list[QuizStatus]:
    """Quizzes of every track the student is enrolled in."""
    from lms.courses.models import Module, Track

    quizzes = list(
        db.session.execute(
            sa.select(Quiz)
            .join(Enrollment, sa.and_(Enrollment.track_id == Quiz.track_id, Enrollment.user_id == user_id))
            .join(Track, Track.id == Quiz.track_id)
            .outerjoin(Module, Module.id == Quiz.module_id)
            .where(Enrollment.left_at.is_(None), Quiz.retired_at.is_(None))
            .order_by(Track.position, Track.id, Quiz.kind.desc(), Module.position, Quiz.slug)
        ).scalars()
    )
    return quiz_statuses(quizzes, user_id)


# -- staff -----------------------------------------------------------------------------------------------------


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
    from lms.accounts.operations import find_user_by_email

    text = email_or_id.strip()
    user = db.session.get(User, int(text)) if text.isdigit() else find_user_by_email(text)
    if user is None:
        raise DomainError("No account has that email.", field="student")
    return user

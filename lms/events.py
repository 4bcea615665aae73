"""Domain events: how one feature reacts to another without importing it.

An operation changes state, then emits a small typed record (`emit(GradeReleased(...))`). Features subscribe to
the record's type in their `register(app)` (`subscribe(GradeReleased, handler)`); the handler receives the record.

When handlers run, relative to the emitter's transaction:

- `Phase.IN_TRANSACTION` (the default): synchronously, inside the emitter's transaction, after the emitter's own
  change is flushed, in subscription order. The handler may read and change the database through `db.session`;
  its changes commit or roll back with the emitter's. It must not commit, roll back or talk to the outside world
  (email, HTTP, files): anything external belongs after the commit. An exception raised here aborts the whole
  operation, so such handlers keep the rules that must be atomic with the change (issuing or suspending a
  certificate when progress changes).
- `Phase.AFTER_COMMIT`: once the session that the event was emitted in has committed, in emission order, outside
  the transaction. Nothing runs when that transaction rolls back. This is where the outside world is told that
  committed work is waiting (waking a job runner, a log line in development); the work itself is written in the
  transaction by an IN_TRANSACTION handler (an outbox row), so a commit is never without it. The session has no
  open transaction here: such a handler must not use `db.session`. An exception is logged and does not undo the
  commit, which has already happened; such handlers must be idempotent and quick.

An event emitted outside an open transaction (a CLI step after its commit) runs its AFTER_COMMIT handlers at the
next commit of the session, or at once with `flush_after_commit()`.
"""

from __future__ import annotations

import enum
import logging
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

log = logging.getLogger(__name__)


class Phase(enum.Enum):
    IN_TRANSACTION = "in_transaction"
    AFTER_COMMIT = "after_commit"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Base of every domain event: an immutable record of something that has happened."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressChanged(Event):
    """A student's standing in a track may have changed (a lesson completed, a quiz passed, a handbook graded)."""

    user_id: int
    track_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Enrolled(Event):
    """A student enrolled in a track (or came back to it)."""

    user_id: int
    track_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class AttemptSubmitted(Event):
    """A quiz attempt was finished: by the student, or by the server at its deadline (`by_server`)."""

    attempt_id: int
    user_id: int
    quiz_id: int
    track_id: int
    by_server: bool
    passed: bool | None


@dataclass(frozen=True, slots=True, kw_only=True)
class GradeReleased(Event):
    """A grade on a handbook submission was released to its student (`release_number` counts from 1)."""

    submission_id: int
    user_id: int
    track_id: int
    actor_id: int
    release_number: int
    passed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class RegradeAnswered(Event):
    """Staff answered a student's regrade request (accepted or declined)."""

    submission_id: int
    user_id: int
    actor_id: int
    accepted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class RegradeRequested(Event):
    """A student asked staff to look at a released grade again."""

    submission_id: int
    user_id: int
    request_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateEvent(Event):
    """Something happened to a certificate (`certificate_id`) of a holder (`user_id`)."""

    certificate_id: int
    user_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateIssued(CertificateEvent):
    """Issued by the completion rule (`actor_id` None) or by a member of staff."""

    track_id: int
    actor_id: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateRevoked(CertificateEvent):
    """Revoked for good: the public page says so, with the reason."""

    actor_id: int | None  # None: revoked from a shell (lms revoke-certificate)
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateReissued(CertificateEvent):
    """A new version (a name correction, a new template): `version_number` counts from 1."""

    actor_id: int
    version_number: int
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateSuspended(CertificateEvent):
    """The completion rule that issued it stopped holding (a passing grade withdrawn, a quiz re-scored below the
    pass): under review, the public page says SUSPENDED. `actor_id` None: the platform did it automatically."""

    actor_id: int | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CertificateRestored(CertificateEvent):
    """A suspended certificate is valid again: its basis holds again (`actor_id` None, automatic) or staff decided."""

    actor_id: int | None
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountChanged(Event):
    """Something about an account that its owner must hear of changed (`what`: "password", "email", "role",
    "active", ...). `at` is when, by the one clock."""

    user_id: int
    actor_id: int | None
    what: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class JobDead(Event):
    """A background job failed every retry and is now in the dead-letter list (lms.jobs) for an admin to see."""

    job_id: int
    kind: str
    error: str


E = TypeVar("E", bound=Event)
Handler = Callable[[Any], Any]

_handlers: dict[tuple[type[Event], Phase], list[Handler]] = defaultdict(list)


def subscribe(event_type: type[E], handler: Callable[[E], Any], phase: Phase = Phase.IN_TRANSACTION) -> None:
    """Call `handler(event)` for every emitted event of `event_type`, in `phase` (once, however often called)."""
    handlers = _handlers[(event_type, phase)]
    if handler not in handlers:
        handlers.append(handler)


def unsubscribe(
    event_type: type[E], handler: Callable[[E], Any], phase: Phase = Phase.IN_TRANSACTION
) -> None:
    handlers = _handlers[(event_type, phase)]
    if handler in handlers:
        handlers.remove(handler)


@contextmanager
def subscribed(
    event_type: type[E], handler: Callable[[E], Any], phase: Phase = Phase.IN_TRANSACTION
) -> Iterator[None]:
    """`handler` hears `event_type` inside the block only (tests, one-off listeners)."""
    subscribe(event_type, handler, phase)
    try:
        yield
    finally:
        unsubscribe(event_type, handler, phase)


def emit(event: Event) -> None:
    """Run the in-transaction handlers of `event` now, and queue its after-commit handlers on the session."""
    if not isinstance(event, Event):
        raise TypeError(f"emit() takes an Event record, not {type(event).__name__}")
    for handler in list(_handlers[(type(event), Phase.IN_TRANSACTION)]):
        handler(event)
    if _handlers[(type(event), Phase.AFTER_COMMIT)]:
        _pending().append(event)


def flush_after_commit() -> None:
    """Run the after-commit handlers of the events queued on the current session so far."""
    from lms.extensions import db

    _run_after_commit(db.session())


_PENDING_KEY = "lms_events_after_commit"


def _pending() -> list[Event]:
    from lms.extensions import db

    session = db.session()
    if not session.in_transaction():
        session.begin()  # cheap (no connection yet), and its rollback must cancel the queued events
    return session.info.setdefault(_PENDING_KEY, [])  # type: ignore[no-any-return]


def install_session_hooks() -> None:
    """Tie the after-commit queue to the session's outcome (called once by create_app)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    if getattr(install_session_hooks, "done", False):
        return

    @sa.event.listens_for(Session, "after_commit")
    def _after_commit(session: Session) -> None:
        if session.info.get(_PENDING_KEY):
            _run_after_commit(session)

    @sa.event.listens_for(Session, "after_soft_rollback")
    def _after_rollback(session: Session, previous_transaction: Any) -> None:
        if previous_transaction.parent is None:  # the outermost transaction: nothing it held happened
            session.info.pop(_PENDING_KEY, None)

    install_session_hooks.done = True  # type: ignore[attr-defined]


def _run_after_commit(session: Any) -> None:
    pending: list[Event] = session.info.get(_PENDING_KEY, [])
    while pending:
        event = pending.pop(0)
        for handler in list(_handlers[(type(event), Phase.AFTER_COMMIT)]):
            try:
                handler(event)
            except Exception:  # the commit stands; a failing notice must not turn it into an error
                log.exception(
                    "after-commit handler %s failed for %r", getattr(handler, "__name__", handler), event
                )

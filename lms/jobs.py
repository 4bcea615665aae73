"""The job queue: work that happens without a person (emails, PDFs, periodic sweeps), in a table of our own database.

Why a table and not Procrastinate (see CONTRIBUTING.md, "Jobs"): a row added through `db.session` commits or rolls
back with the change that causes it, on SQLite (the embedded default) as on PostgreSQL, with no second connection
or library transaction to keep in step. The queue knows no feature: features register handlers by kind
(`register_handler("notifications.email", send)`) and periodic jobs in one line (`register_periodic(...)`).

- `enqueue(kind, payload)` adds a job to the caller's transaction: a rollback sends nothing, a commit is never
  without its job. After the commit, the in-process runner (if any) is woken.
- A worker claims a due job with one conditional UPDATE (on PostgreSQL after a `FOR UPDATE SKIP LOCKED` read), which
  sets a lease (`locked_until`). A worker killed mid-job leaves the lease to expire; then another worker takes the
  job again. Handlers must therefore be idempotent (the email handler keeps a ledger: a job run twice sends once).
- A failing job is retried with exponential backoff; after `JOBS_MAX_ATTEMPTS` it is dead, listed for admins, who
  may retry or discard it.
- Periodic jobs: each worker, on each tick, inserts the job of the current time slot under a unique key
  (`periodic:<name>:<slot>`); the unique constraint lets exactly one insert win, so one worker runs each slot.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from lms.clock import now_utc
from lms.database import UTCDateTime
from lms.extensions import db

log = logging.getLogger(__name__)

QUEUED = "queued"
RUNNING = "running"
DONE = "done"
DEAD = "dead"
STATES = (QUEUED, RUNNING, DONE, DEAD)


class Job(db.Model):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    state: Mapped[str] = mapped_column(sa.String(16), default=QUEUED)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by: Mapped[str | None] = mapped_column(sa.String(120))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    # Unique when set: a periodic slot, or any job that must be enqueued once whoever asks.
    unique_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint(sa.column("state").in_(STATES), name="state"),
        sa.Index("ix_jobs_due", "state", "run_at"),
    )


Handler = Callable[[dict[str, Any]], Any]
_HANDLERS: dict[str, Handler] = {}


@dataclass(frozen=True)
class Periodic:
    name: str
    every: timedelta
    kind: str


_PERIODIC: dict[str, Periodic] = {}


def register_handler(kind: str, handler: Handler) -> None:
    """Run `handler(payload)` for jobs of `kind`. It runs in a transaction the worker commits when it returns; it
    may commit earlier itself (a ledger written right after an email left)."""
    _HANDLERS[kind] = handler


def register_periodic(name: str, every: timedelta, handler: Callable[[], Any]) -> None:
    """Run `handler()` once per `every` (slots counted from the epoch, UTC), on one worker however many run."""
    kind = f"periodic.{name}"
    register_handler(kind, lambda _payload: handler())
    _PERIODIC[name] = Periodic(name, every, kind)


def periodic_jobs() -> list[Periodic]:
    return list(_PERIODIC.values())


def enqueue(
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    unique_key: str | None = None,
) -> Job | None:
    """Add a job to the caller's transaction (the caller commits). With `unique_key`, a second job of the same key
    is not added (None is returned)."""
    if kind not in _HANDLERS:
        raise ValueError(f"no job handler for {kind!r}")
    now = now_utc()
    if unique_key is not None:
        if not _insert_unique(kind, payload or {}, run_at or now, unique_key):
            return None
        job = db.session.execute(sa.select(Job).where(Job.unique_key == unique_key)).scalar_one()
    else:
        job = Job(
            kind=kind, payload=payload or {}, run_at=run_at or now, created_at=now, state=QUEUED, attempts=0
        )
        db.session.add(job)
        db.session.flush()
    _wake_after_commit()
    return job


def _insert_unique(kind: str, payload: dict[str, Any], run_at: datetime, unique_key: str) -> bool:
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = {
        "kind": kind, "payload": payload, "run_at": run_at, "unique_key": unique_key, "created_at": now_utc(),
        "state": QUEUED, "attempts": 0,
    }  # fmt: skip
    statement = (
        insert(Job).values(**values).on_conflict_do_nothing(index_elements=["unique_key"]).returning(Job.id)
    )
    return db.session.execute(statement).first() is not None  # no row back: the key was taken


# ---- waking a runner after commit -------------------------------------------------------------------------------

_WAKE_KEY = "lms_jobs_wake"


def _wake_after_commit() -> None:
    session = db.session()
    if session.info.get(_WAKE_KEY):
        return
    session.info[_WAKE_KEY] = True
    runner = current_app.extensions.get("lms_job_runner")

    @sa.event.listens_for(session, "after_commit", once=True)
    def _wake(_session: Any) -> None:
        session.info.pop(_WAKE_KEY, None)
        if runner is not None:
            runner.wake()

    @sa.event.listens_for(session, "after_soft_rollback", once=True)
    def _forget(_session: Any, _previous: Any) -> None:
        session.info.pop(_WAKE_KEY, None)


# ---- running jobs ------------------------------------------------------------------------------------------------


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def backoff(attempts: int) -> timedelta:
    """Wait before retry number `attempts`: the base doubling each time (base, 2 x base, 4 x base ...), at most
    an hour."""
    base = current_app.config["JOBS_RETRY_BASE_SECONDS"]
    return timedelta(seconds=min(3600, base * 2 ** max(0, attempts - 1)))


def _due(now: datetime) -> sa.ColumnElement[bool]:
    waiting = sa.and_(Job.state == QUEUED, Job.run_at <= now)
    abandoned = sa.and_(Job.state == RUNNING, Job.locked_until < now)  # its worker died: the lease ran out
    return sa.or_(waiting, abandoned)


def claim_next(name: str | None = None) -> Job | None:
    """Take the next due job under a lease, committed, or None when nothing is due."""
    now = now_utc()
    lease = timedelta(seconds=current_app.config["JOBS_LEASE_SECONDS"])
    candidates = sa.select(Job.id).where(_due(now)).order_by(Job.run_at, Job.id).limit(5)
    if db.session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    for job_id in list(db.session.execute(candidates).scalars()):
        taken = db.session.execute(
            sa.update(Job)
            .where(Job.id == job_id, _due(now))
            .values(
                state=RUNNING,
                attempts=Job.attempts + 1,
                locked_until=now + lease,
                locked_by=name or worker_name(),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if taken:
            db.session.commit()
            return db.session.get(Job, job_id, populate_existing=True)
    db.session.commit()
    return None


def run_job(job: Job) -> bool:
    """Run one claimed job; True when it succeeded. A failure is retried later, or the job dies."""
    job_id, kind, payload, attempts = job.id, job.kind, dict(job.payload), job.attempts
    handler = _HANDLERS.get(kind)
    try:
        if handler is None:
            raise LookupError(f"no job handler for {kind!r} in this process")
        handler(payload)
        db.session.flush()
    except Exception as error:  # any failure of a handler: retried, then dead-lettered; never lost
        db.session.rollback()
        _failed(job_id, attempts, error)
        return False
    db.session.execute(
        sa.update(Job)
        .where(Job.id == job_id)
        .values(state=DONE, finished_at=now_utc(), locked_until=None, last_error=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return True


def _failed(job_id: int, attempts: int, error: Exception) -> None:
    dead = attempts >= current_app.config["JOBS_MAX_ATTEMPTS"]
    message = f"{type(error).__name__}: {error}"[:2000]
    log.warning("job %s failed (attempt %s)%s: %s", job_id, attempts, ", dead" if dead else "", message)
    db.session.execute(
        sa.update(Job)
        .where(Job.id == job_id)
        .values(
            state=DEAD if dead else QUEUED,
            run_at=now_utc() + backoff(attempts),
            locked_until=None,
            last_error=message,
            finished_at=now_utc() if dead else None,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if dead:
        from lms.events import JobDead, emit

        emit(JobDead(job_id=job_id, kind=_kind_of(job_id), error=message))
        db.session.commit()


def _kind_of(job_id: int) -> str:
    return db.session.execute(sa.select(Job.kind).where(Job.id == job_id)).scalar_one()


def schedule_periodic(now: datetime | None = None) -> int:
    """Insert the current slot's job of every periodic task not yet inserted; returns how many this call added."""
    now = now or now_utc()
    added = 0
    for periodic in _PERIODIC.values():
        seconds = int(periodic.every.total_seconds())
        slot = int(now.timestamp()) // seconds
        slot_start = datetime.fromtimestamp(slot * seconds, UTC)
        added += _insert_unique(periodic.kind, {"slot": slot}, slot_start, f"periodic:{periodic.name}:{slot}")
    db.session.commit()
    return added


def run_pending(limit: int = 1000, name: str | None = None) -> int:
    """Run every due job now (tests, the in-process runner); returns how many ran."""
    ran = 0
    while ran < limit:
        job = claim_next(name)
        if job is None:
            break
        run_job(job)
        ran += 1
    return ran


def run_worker(*, poll_seconds: float, stop: threading.Event | None = None, name: str | None = None) -> None:
    """The worker loop: schedule periodic slots, run what is due, sleep a little when nothing is."""
    stop = stop or threading.Event()
    name = name or worker_name()
    while not stop.is_set():
        try:
            schedule_periodic()
            ran = run_pending(limit=50, name=name)
        except Exception:  # the database went away for a moment: try again on the next tick
            log.exception("job worker tick failed")
            db.session.rollback()
            ran = 0
        finally:
            db.session.remove()
        if not ran:
            stop.wait(poll_seconds)


# ---- dead letters (the admin page) --------------------------------------------------------------------------------


def dead_jobs(limit: int = 200) -> list[Job]:
    return list(
        db.session.execute(
            sa.select(Job).where(Job.state == DEAD).order_by(Job.id.desc()).limit(limit)
        ).scalars()
    )


def retry_dead(job_id: int) -> bool:
    """Put a dead job back in the queue, with its attempts counted afresh; False when it is not dead."""
    changed = db.session.execute(
        sa.update(Job)
        .where(Job.id == job_id, Job.state == DEAD)
        .values(state=QUEUED, attempts=0, run_at=now_utc(), finished_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed:
        _wake_after_commit()
    db.session.commit()
    return bool(changed)


def discard_dead(job_id: int) -> bool:
    changed = db.session.execute(sa.delete(Job).where(Job.id == job_id, Job.state == DEAD)).rowcount
    db.session.commit()
    return bool(changed)


# ---- the in-process runner (SQLite, `make run`) -----------------------------------------------------------------


class InProcessRunner:
    """A daemon thread of the dev server that runs jobs after each commit that enqueued one, and polls for jobs
    enqueued by other processes (a CLI command) and for periodic slots."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._event = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def wake(self) -> None:
        """Run what was just enqueued, soon. A command-line process (`flask lms ...`) starts no thread: it would die
        with the command, mid-job perhaps; the server's thread (or a worker) takes the job within a poll."""
        import click

        if click.get_current_context(silent=True) is not None:
            return
        self.start()
        self._event.set()

    def start(self) -> None:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._loop, name="lms-jobs", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Let the thread end after its current pass (tests; a process that exits needs nothing: it is a daemon)."""
        self._stopping.set()
        self._event.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _loop(self) -> None:
        poll = self.app.config["JOBS_POLL_SECONDS"]
        while not self._stopping.is_set():
            with self.app.app_context():
                try:
                    schedule_periodic()
                    run_pending(limit=50)
                except Exception:
                    log.exception("in-process job runner tick failed")
                finally:
                    db.session.remove()
            self._event.wait(poll)
            self._event.clear()


def runner_mode(app: Flask) -> str:
    """Who runs the jobs: "worker" (`flask lms worker` processes), "thread" (a thread of each app process), or
    "manual" (nobody: tests call run_pending). LMS_JOBS_RUNNER=auto: a thread on SQLite, workers on PostgreSQL."""
    mode = app.config["JOBS_RUNNER"]
    if mode == "auto":
        if app.config.get("TESTING"):
            return "manual"
        return "thread" if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("sqlite") else "worker"
    return str(mode)


DONE_KEPT = timedelta(days=7)  # finished jobs stay this long (what ran, for someone looking into a complaint)


def prune_done_jobs(now: datetime | None = None) -> int:
    """The queue's own periodic job: forget finished jobs older than DONE_KEPT (dead ones stay until an admin acts)."""
    cutoff = (now or now_utc()) - DONE_KEPT
    return int(db.session.execute(sa.delete(Job).where(Job.state == DONE, Job.finished_at < cutoff)).rowcount)


def install_job_runner(app: Flask) -> None:
    """Register the queue's own periodic job, and give the app its runner thread when jobs run in-process; the
    thread starts at the first commit that enqueues a job, or at once under `flask run` (so jobs a CLI command
    enqueued are run without any page being visited)."""
    register_periodic("jobs.prune_done", timedelta(days=1), prune_done_jobs)
    if runner_mode(app) != "thread":
        return
    runner = InProcessRunner(app)
    app.extensions["lms_job_runner"] = runner
    if os.environ.get("WERKZEUG_RUN_MAIN") == "true" or _serving():
        runner.start()


def _serving() -> bool:
    import sys

    return "flask" in os.path.basename(sys.argv[0]) and "run" in sys.argv[1:]

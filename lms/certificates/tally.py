"""Verification counts: collected in memory for a few seconds, then written with one UPDATE per certificate.

The public verification page is the busiest page of the platform and otherwise only reads. Writing the count on
every view would turn each lookup into a write transaction (on SQLite, one writer at a time for the whole
database; on PostgreSQL, a commit per view). So each process counts in memory and writes what it counted at most
CERTIFICATE_COUNT_FLUSH_SECONDS later, from a timer thread, and again when the process exits. With the setting at 0
each view writes its count at once.

What a process killed with SIGKILL had not written yet (a few seconds of views) is lost: the counts are
statistics shown to the holder, not records. Certificate states, and every change to them, are written at once.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from datetime import datetime

import sqlalchemy as sa
from flask import Flask

from lms.certificates.models import Certificate
from lms.extensions import db

log = logging.getLogger(__name__)

_table = Certificate.__table__
_seen_at = sa.bindparam("seen_at", type_=_table.c.last_verified_at.type)
_ADD_COUNTS = (
    sa.update(_table)
    .where(_table.c.id == sa.bindparam("certificate_id"))
    .values(
        verification_count=_table.c.verification_count + sa.bindparam("views"),
        last_verified_at=sa.case(
            (
                sa.or_(_table.c.last_verified_at.is_(None), _table.c.last_verified_at < _seen_at),
                _seen_at,
            ),
            else_=_table.c.last_verified_at,
        ),
    )
)


def write_counts(pending: dict[int, tuple[int, datetime]]) -> None:
    """Add each certificate's new views to its count, and move its last verification forward, in one transaction."""
    if not pending:
        return
    rows = [
        {"certificate_id": certificate_id, "views": views, "seen_at": seen_at}
        for certificate_id, (views, seen_at) in sorted(pending.items())  # one lock order for every writer
    ]
    with db.engine.begin() as connection:
        connection.execute(_ADD_COUNTS, rows)


class VerificationTally:
    """One per app and process: `add` is called by each counted view, `flush` writes what was added."""

    def __init__(self, app: Flask, flush_seconds: float) -> None:
        self._app = app
        self.flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[int, datetime]] = {}
        self._timer: threading.Timer | None = None
        self._pid = os.getpid()
        if flush_seconds > 0:
            atexit.register(self.flush)

    def add(self, certificate_id: int, at: datetime) -> None:
        """Count one view of a certificate; written at once, or by the timer within flush_seconds."""
        with self._lock:
            if (
                self._pid != os.getpid()
            ):  # a forked child: the parent writes what it counted, the child starts empty
                self._pid, self._pending, self._timer = os.getpid(), {}, None
            views, seen_at = self._pending.get(certificate_id, (0, at))
            self._pending[certificate_id] = (views + 1, max(seen_at, at))
            self._start_timer()
        if self.flush_seconds <= 0:
            self.flush()

    @property
    def pending(self) -> int:
        """How many views are counted but not written yet."""
        with self._lock:
            return sum(views for views, _ in self._pending.values())

    def flush(self) -> None:
        """Write every counted view now. A failed write keeps the views for the next flush."""
        with self._lock:
            pending, self._pending = self._pending, {}
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._pid != os.getpid():
                return
        if not pending:
            return
        try:
            with self._app.app_context():
                write_counts(pending)
        except (
            Exception
        ):  # the database may be away for a moment: keep the views, log, and let the view go on
            log.exception("could not write %d certificate verification counts; keeping them", len(pending))
            with self._lock:
                for certificate_id, (views, seen_at) in pending.items():
                    have, last = self._pending.get(certificate_id, (0, seen_at))
                    self._pending[certificate_id] = (have + views, max(last, seen_at))
                self._start_timer()

    def _start_timer(self) -> None:
        # Called holding the lock. Daemon: the exit handler writes what is left, the timer must not hold exit.
        if self.flush_seconds > 0 and self._timer is None:
            self._timer = threading.Timer(self.flush_seconds, self.flush)
            self._timer.daemon = True
            self._timer.start()


def install_tally(app: Flask) -> VerificationTally:
    tally = VerificationTally(app, float(app.config.get("CERTIFICATE_COUNT_FLUSH_SECONDS") or 0))
    app.extensions["lms_verification_tally"] = tally
    return tally


def tally_of(app: Flask) -> VerificationTally:
    return app.extensions["lms_verification_tally"]  # type: ignore[no-any-return]

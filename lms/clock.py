"""The one source of "now": aware UTC datetimes, frozen or shifted by tests.

It also tells whether a result depends on the time (`watched`): a page kept rendered (lms.accounts.kept_pages) must know
whether its rendering read the clock, and if so until when what it shows holds (`holds_until`, said by the code
that compared the time with a deadline, an expiry or an opening)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

_frozen: datetime | None = None


@dataclass
class TimeRead:
    """What a piece of work did with the time (`watched`): whether it read the clock, whether it said until when its
    result holds (`holds_until`), and the earliest such moment (None: its result never changes with the time)."""

    read: bool = False
    said: bool = False
    until: datetime | None = None

    @property
    def bounded(self) -> bool:
        """Whether the result may be kept: it did not read the clock, or it said until when it holds."""
        return self.said or not self.read


_watch: ContextVar[TimeRead | None] = ContextVar("lms_clock_watch", default=None)


def now_utc() -> datetime:
    """Return the current time as an aware UTC datetime (or the frozen time in tests)."""
    watch = _watch.get()
    if watch is not None:
        watch.read = True
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


@contextmanager
def watched() -> Iterator[TimeRead]:
    """Note what the work inside the block does with the time."""
    watch = TimeRead()
    token = _watch.set(watch)
    try:
        yield watch
    finally:
        _watch.reset(token)


def holds_until(when: datetime | None) -> None:
    """Say that what is being worked out from the time holds until `when`: the next deadline, expiry or opening
    among those it compared the time with; None when none of them lies ahead. The earliest moment said counts.
    Outside a `watched` block this does nothing."""
    watch = _watch.get()
    if watch is not None:
        watch.said = True
        if when is not None:
            watch.until = when if watch.until is None else min(watch.until, when)


def next_moment(moments: Iterable[datetime], now: datetime) -> datetime | None:
    """The earliest of `moments` at or after `now` (None if none is): what holds_until takes."""
    return min((moment for moment in moments if moment >= now), default=None)


def freeze(at: datetime | None) -> None:
    """Freeze the clock at `at` (aware), or unfreeze it with None. For tests and benchmarks only."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("the clock only holds aware datetimes")
    _frozen = at.astimezone(UTC) if at is not None else None

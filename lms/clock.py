"""The one source of "now": aware UTC datetimes, frozen or shifted by tests."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def now_utc() -> datetime:
    """Return the current time as an aware UTC datetime (or the frozen time in tests)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Freeze the clock at `at` (aware), or unfreeze it with None. For tests and benchmarks only."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("the clock only holds aware datetimes")
    _frozen = at.astimezone(UTC) if at is not None else None

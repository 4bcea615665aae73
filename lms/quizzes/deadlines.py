"""The time rules of an attempt, and how durations and points read on a page: no database, only the settings.

A save must be given before the deadline and arrive within the network grace (save_cutoff). A submission is
accepted until the submit cutoff (the quiz's grace added when it ends in "grace" mode); after that the server
finishes the attempt itself with what was saved in time (is_overdue)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from flask import current_app

from lms.quizzes.models import IN_PROGRESS


class Timed(Protocol):
    """What the time rules read of an attempt: its row (models.Attempt) or the autosave's copy (fast.AttemptRow)."""

    @property
    def state(self) -> str: ...

    @property
    def deadline(self) -> datetime: ...

    @property
    def on_expiry(self) -> str: ...

    @property
    def grace_seconds(self) -> int: ...


def network_grace() -> timedelta:
    return timedelta(seconds=current_app.config["QUIZ_NETWORK_GRACE_SECONDS"])


def save_cutoff(attempt: Timed) -> datetime:
    """The last moment a save may arrive (it must also have been given before the deadline)."""
    return attempt.deadline + network_grace()


def submit_cutoff(attempt: Timed) -> datetime:
    """The last moment a submission is accepted; after it the server finalizes the attempt itself."""
    grace = timedelta(seconds=attempt.grace_seconds) if attempt.on_expiry == "grace" else timedelta(0)
    return attempt.deadline + network_grace() + grace


def is_overdue(attempt: Timed, now: datetime) -> bool:
    return attempt.state == IN_PROGRESS and now > submit_cutoff(attempt)


# -- on the page -----------------------------------------------------------------------------------------------


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

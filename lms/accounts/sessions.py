"""Server-side sessions: each sign-in is a row of user_sessions that sign-out revokes.

A sign-in makes a random token (secrets), keeps its SHA-256 in a new row and hands the token to Flask-Login inside
the user id it stores in the signed session and the remember-me cookie ("id:session_version:token",
Identity.get_id). Every request's user is accepted only while that row is live (is_live):

- not revoked: signing out revokes this device's row only; "sign out everywhere else" and a password change
  revoke the others; a password reset revokes them all;
- not idle: idle_until is last_seen_at plus the idle timeout (SESSION_IDLE_MINUTES, or REMEMBER_IDLE_DAYS for a
  "keep me signed in" session), moved on by touch() at most once per TOUCH_SECONDS;
- not older than expires_at, the absolute timeout from sign-in (SESSION_ABSOLUTE_HOURS, or REMEMBER_COOKIE_DURATION
  for a "keep me signed in" session). A setting of 0 turns that limit off.

The fast paths (lms.accounts.fast) check the same row inside their one statement (live_and_fresh), and only while
it was seen within TOUCH_SECONDS; otherwise they go the slow way, whose loader checks and touches it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from lms.accounts.models import User, UserSession
from lms.audit import record_event
from lms.clock import now_utc
from lms.database import single_write
from lms.extensions import db

TOUCH_SECONDS = 60  # last_seen_at is written at most once a minute per session
TOKEN_BYTES = 32

_sessions = UserSession.__table__


def session_key(token: str) -> str:
    """The stored form of a session token (its SHA-256, hex)."""
    return hashlib.sha256(token.encode()).hexdigest()


def parse_session_id(raw: Any) -> tuple[int, int, str] | None:
    """(user id, session version, session token) from what Flask-Login stored (Identity.get_id); None for
    anything else, including an id from before server-side sessions (no token)."""
    if not isinstance(raw, str):
        return None
    parts = raw.split(":")
    if len(parts) != 3 or not (parts[0].isdigit() and parts[1].isdigit()) or not 20 <= len(parts[2]) <= 100:
        return None
    user_id, version = int(parts[0]), int(parts[1])
    if user_id >= 2**31 or version >= 2**31:  # no such row: never a number the database refuses to compare
        return None
    return user_id, version, parts[2]


def _limit(setting: str, unit: str) -> timedelta | None:
    value = current_app.config.get(setting)
    if isinstance(value, timedelta):
        return value if value > timedelta(0) else None
    amount = float(value or 0)
    return timedelta(**{unit: amount}) if amount > 0 else None


def idle_limit(remember: bool) -> timedelta | None:
    """How long a session may sit unused (None: no limit)."""
    return _limit("REMEMBER_IDLE_DAYS", "days") if remember else _limit("SESSION_IDLE_MINUTES", "minutes")


def absolute_limit(remember: bool) -> timedelta | None:
    """How long a session may last from sign-in, however busy (None: no limit)."""
    if remember:
        return _limit("REMEMBER_COOKIE_DURATION", "days")
    return _limit("SESSION_ABSOLUTE_HOURS", "hours")


def _later(now: datetime, limit: timedelta | None) -> datetime | None:
    return None if limit is None else now + limit


_BROWSERS = (
    ("Edg", "Edge"),
    ("OPR", "Opera"),
    ("Firefox", "Firefox"),
    ("Chrome", "Chrome"),
    ("Safari", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Android", "Android"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def describe_device(user_agent: str) -> str:
    """A short, safe summary of a User-Agent header for the sessions list ("Firefox on Linux")."""
    agent = (user_agent or "")[:512]
    browser = next((name for mark, name in _BROWSERS if re.search(rf"\b{mark}/", agent)), None)
    system = next((name for mark, name in _SYSTEMS if mark in agent), None)
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or "Unknown device"


def start_session(
    user: User, *, remember: bool, address: str | None, user_agent: str, now: datetime | None = None
) -> str:
    """Record a new signed-in device for `user` and return its token (to give Flask-Login: Identity.get_id)."""
    now = now or now_utc()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    _forget_ended_sessions(user, now)
    db.session.add(
        UserSession(
            key_hash=session_key(token),
            user_id=user.id,
            remember=remember,
            created_at=now,
            last_seen_at=now,
            idle_until=_later(now, idle_limit(remember)),
            expires_at=_later(now, absolute_limit(remember)),
            address=(address or "")[:45],
            device=describe_device(user_agent),
        )
    )
    record_event(user.id, "session.started", "user", user.id, remember=remember)
    db.session.commit()
    return token


def _forget_ended_sessions(user: User, now: datetime) -> None:
    """Delete `user`'s sessions that ended (signed out, idle or too old), so the table holds about one row per
    device in use (the audit trail keeps each sign-in and sign-out)."""
    db.session.execute(
        sa.delete(UserSession)
        .where(
            UserSession.user_id == user.id,
            sa.or_(
                UserSession.revoked_at.is_not(None),
                UserSession.idle_until <= now,
                UserSession.expires_at <= now,
            ),
        )
        .execution_options(synchronize_session=False)
    )


def is_live(row: Any, now: datetime) -> bool:
    """Whether a user_sessions row (or a row with its revoked_at, idle_until, expires_at) still signs in."""
    return (
        row.revoked_at is None
        and (row.idle_until is None or row.idle_until > now)
        and (row.expires_at is None or row.expires_at > now)
    )


def touch_due(last_seen_at: datetime, now: datetime) -> bool:
    return now - last_seen_at >= timedelta(seconds=TOUCH_SECONDS)


def live_and_fresh(owner: sa.ColumnElement[Any], prefix: str) -> sa.ColumnElement[bool]:
    """SQL true when the session named by the parameters `<prefix>_session` (its key), `<prefix>_now` and
    `<prefix>_fresh` (now less TOUCH_SECONDS) is `owner`'s, live (is_live) and seen since `<prefix>_fresh`
    (touch_due is false). Parameters from fresh_params()."""
    now = sa.bindparam(f"{prefix}_now", type_=_sessions.c.last_seen_at.type)
    return sa.exists().where(
        _sessions.c.key_hash == sa.bindparam(f"{prefix}_session", type_=_sessions.c.key_hash.type),
        _sessions.c.user_id == owner,
        _sessions.c.revoked_at.is_(None),
        sa.or_(_sessions.c.idle_until.is_(None), _sessions.c.idle_until > now),
        sa.or_(_sessions.c.expires_at.is_(None), _sessions.c.expires_at > now),
        _sessions.c.last_seen_at >= sa.bindparam(f"{prefix}_fresh", type_=_sessions.c.last_seen_at.type),
    )


def fresh_params(prefix: str, key: str | None, now: datetime | None = None) -> dict[str, Any]:
    """The values of live_and_fresh's parameters (no key: the condition is false)."""
    now = now or now_utc()
    return {
        f"{prefix}_session": key or "",
        f"{prefix}_now": now,
        f"{prefix}_fresh": now - timedelta(seconds=TOUCH_SECONDS),
    }


def touch(key: str, remember: bool, now: datetime) -> None:
    """Note that the session was used now, moving its idle timeout on: one statement of its own, committed at once
    (session bookkeeping, the one write a GET may make for it: tests/test_no_writes_on_get.py)."""
    with single_write() as connection:
        connection.execute(
            sa.update(_sessions)
            .where(_sessions.c.key_hash == key, _sessions.c.revoked_at.is_(None))
            .values(last_seen_at=now, idle_until=_later(now, idle_limit(remember)))
        )


def end_session(key: str, now: datetime | None = None) -> None:
    """Sign out the device whose session has this key (its other devices stay signed in)."""
    now = now or now_utc()
    row = db.session.execute(sa.select(UserSession).where(UserSession.key_hash == key)).scalar_one_or_none()
    if row is None or row.revoked_at is not None:
        return
    row.revoked_at = now
    record_event(row.user_id, "session.ended", "user", row.user_id)
    db.session.commit()


def revoke_other_sessions(user: User, keep_key: str | None, now: datetime | None = None) -> int:
    """Revoke every live session of `user` but the one with `keep_key` (all of them with None), without
    committing; how many were revoked."""
    now = now or now_utc()
    condition = [UserSession.user_id == user.id, UserSession.revoked_at.is_(None)]
    if keep_key is not None:
        condition.append(UserSession.key_hash != keep_key)
    done = db.session.execute(
        sa.update(UserSession)
        .where(*condition)
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


def end_other_sessions(user: User, keep_key: str, now: datetime | None = None) -> int:
    """ "Sign out everywhere else": every other device of `user` is signed out; how many were."""
    ended = revoke_other_sessions(user, keep_key, now)
    record_event(user.id, "session.ended_elsewhere", "user", user.id, count=ended)
    db.session.commit()
    return ended


def end_one_session(user: User, session_id: int, keep_key: str, now: datetime | None = None) -> bool:
    """Sign out one other device of `user` by its row id; False when `user` has no such live session (or it is
    this device's: signing out is for that)."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.revoked_at is not None or row.key_hash == keep_key:
        return False
    row.revoked_at = now or now_utc()
    record_event(user.id, "session.ended", "user", user.id, session=row.id)
    db.session.commit()
    return True


def active_sessions(user: User, now: datetime | None = None) -> list[UserSession]:
    """The user's sessions that still sign in, the most recently used first."""
    now = now or now_utc()
    rows = db.session.scalars(
        sa.select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    return [row for row in rows if is_live(row, now)]

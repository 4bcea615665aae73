"""The sign-in throttle: it slows password guessing without letting a guesser lock the owner out.

Failed sign-ins are counted twice, in the rate limiter's storage (Redis in production, so every app server counts
together; memory in development), never in the database, so a flood of guesses writes nothing there:

- per account *and* client address, in growing tiers (LOGIN_LIMIT_PER_ACCOUNT_ADDRESS, by default 5 a minute,
  10 in 10 minutes, 20 an hour, 40 a day): a guesser at one address waits longer and longer, while the owner at
  another address is not counted with them;
- per account from anywhere (LOGIN_LIMIT_PER_ACCOUNT, by default 50 an hour), a ceiling for guessers spread over
  many addresses. It stops sign-ins only from browsers that have never signed in to the account: a successful
  sign-in leaves a signed "known device" cookie, and that browser is let through the ceiling.

A successful sign-in clears its own address's count. Every address is also limited as a whole, whatever the
account (LOGIN_LIMIT_PER_ADDRESS, Flask-Limiter on the view). Accounts that do not exist are counted the same
way, so the answers never tell which accounts exist.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeTimedSerializer
from limits import RateLimitItem, parse_many
from limits.storage import MovingWindowSupport
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter, RateLimiter

from lms.extensions import limiter

DEVICE_COOKIE = "lms_known_device"  # its name in development; production prefixes __Host- (KNOWN_DEVICE_COOKIE_NAME)
DEVICE_SALT = "lms.known-device"
MAX_KNOWN_ACCOUNTS = 5  # accounts one browser remembers signing in to (a shared family computer, say)


@dataclass(frozen=True)
class Refusal:
    """A sign-in refused before the password is checked: when to try again, and what to tell the person."""

    retry_at: datetime
    seconds: int
    message: str


def _enabled() -> bool:
    return bool(current_app.config["RATELIMIT_ENABLED"]) and limiter.storage is not None


def _strategy() -> RateLimiter:
    storage = limiter.storage
    if isinstance(storage, MovingWindowSupport):
        return MovingWindowRateLimiter(storage)
    return FixedWindowRateLimiter(storage)


def _limits(setting: str) -> list[RateLimitItem]:
    return list(parse_many(current_app.config[setting]))


def _keys(email: str, address: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    prefix = current_app.config["RATELIMIT_KEY_PREFIX"]
    account = hashlib.sha256(email.encode()).hexdigest()[:32]  # no address in the store's keys
    return (prefix, "login-failures", account), (prefix, "login-failures", account, address)


def _wait(strategy: RateLimiter, items: list[RateLimitItem], ids: tuple[str, ...]) -> float | None:
    """The moment (epoch seconds) the longest exhausted limit frees a place, or None when none is exhausted."""
    until = None
    for item in items:
        if not strategy.test(item, *ids):
            reset = strategy.get_window_stats(item, *ids).reset_time
            until = reset if until is None else max(until, reset)
    return until


def _refusal(until: float, what: str) -> Refusal:
    seconds = max(1, math.ceil(until - time.time()))
    retry_at = datetime.fromtimestamp(until, UTC)
    wait = f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"
    return Refusal(
        retry_at,
        seconds,
        f"Too many attempts to sign in to this account {what}. Try again in {wait} "
        f"(at {retry_at:%H:%M} UTC), or reset your password.",
    )


def refusal(email: str, address: str, *, known_device: bool) -> Refusal | None:
    """Why this attempt must wait, or None when it may be checked. `email` is normalized."""
    if not _enabled():
        return None
    strategy = _strategy()
    account_ids, pair_ids = _keys(email, address)
    until = _wait(strategy, _limits("LOGIN_LIMIT_PER_ACCOUNT_ADDRESS"), pair_ids)
    if until is not None:
        return _refusal(until, "from your network")
    if not known_device:
        until = _wait(strategy, _limits("LOGIN_LIMIT_PER_ACCOUNT"), account_ids)
        if until is not None:
            return _refusal(until, "from browsers it has not been used on before")
    return None


def record_failure(email: str, address: str) -> None:
    if not _enabled():
        return
    strategy = _strategy()
    account_ids, pair_ids = _keys(email, address)
    for item in _limits("LOGIN_LIMIT_PER_ACCOUNT_ADDRESS"):
        strategy.hit(item, *pair_ids)
    for item in _limits("LOGIN_LIMIT_PER_ACCOUNT"):
        strategy.hit(item, *account_ids)


def record_success(email: str, address: str) -> None:
    """The owner got in from here: their earlier typos at this address no longer count."""
    if not _enabled():
        return
    strategy = _strategy()
    _, pair_ids = _keys(email, address)
    for item in _limits("LOGIN_LIMIT_PER_ACCOUNT_ADDRESS"):
        strategy.clear(item, *pair_ids)


# --- the known-device cookie ---------------------------------------------------------------------------------


def _device_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=DEVICE_SALT)


def _account_tag(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def _known_tags(cookie: str | None) -> list[str]:
    if not cookie:
        return []
    max_age = int(current_app.config["KNOWN_DEVICE_DAYS"]) * 86400
    try:
        tags = _device_serializer().loads(cookie, max_age=max_age)
    except BadSignature:  # also SignatureExpired
        return []
    return [tag for tag in tags if isinstance(tag, str)] if isinstance(tags, list) else []


def device_knows(cookie: str | None, email: str) -> bool:
    """Whether this browser's cookie says it signed in to the account with this (normalized) email before."""
    return _account_tag(email) in _known_tags(cookie)


def device_cookie_after_sign_in(cookie: str | None, email: str) -> str:
    """The cookie to set once the account signed in: this account first, a few others it knew kept."""
    tag = _account_tag(email)
    tags = [tag, *(t for t in _known_tags(cookie) if t != tag)][:MAX_KNOWN_ACCOUNTS]
    return _device_serializer().dumps(tags)

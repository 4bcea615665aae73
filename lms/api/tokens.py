"""API tokens: created by admins with scopes and an expiry, shown once, kept hashed, revocable.

The secret is 32 random bytes (`secrets.token_urlsafe(32)`, 256 bits) behind the `lms_` prefix. It is kept as its
SHA-256, not under a slow password hash: a slow hash protects secrets a person chose, which an attacker can guess;
nobody guesses 256 random bits, fast hash or slow. A plain digest also lets each request find its token with one
indexed lookup, where a salted slow hash would have to be tried against every token.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from lms.accounts.models import Role, User
from lms.api.models import ApiRequest, ApiToken
from lms.audit import record_event
from lms.clock import now_utc
from lms.errors import DomainError, NotFound
from lms.extensions import db

TOKEN_PREFIX = "lms_"  # noqa: S105  (the visible prefix of every token, not a secret)
SCOPES = (
    "certificates:read",
    "certificates:write",
    "users:read",
    "users:write",
    "enrolments:read",
    "enrolments:write",
    "results:read",
)
MAX_NAME = 100
MAX_DAYS = 3 * 366  # a token lives at most about three years: an expiry is required, and a short one is wiser
LAST_USE_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often, like sessions' last_seen


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    actor: User, name: str, scopes: Sequence[str], expires_on: date | None, now: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token owned by `actor` (an admin); returns it with its secret, which is never available again."""
    now = now or now_utc()
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Give the token a name that says who uses it.", field="name")
    if len(name) > MAX_NAME:
        raise DomainError(f"Keep the name under {MAX_NAME} characters.", field="name")
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise DomainError(f"Unknown scope: {', '.join(unknown)}.", field="scopes")
    if not scopes:
        raise DomainError("Choose at least one scope.", field="scopes")
    if expires_on is None:
        raise DomainError("Choose the date the token expires.", field="expires_on")
    expires_at = datetime(expires_on.year, expires_on.month, expires_on.day, tzinfo=UTC)
    if expires_at <= now:
        raise DomainError("Choose an expiry date in the future.", field="expires_on")
    if expires_at > now + timedelta(days=MAX_DAYS):
        raise DomainError("Choose an expiry date within three years.", field="expires_on")
    if actor.role_enum is not Role.ADMIN:
        raise DomainError("Only admins create API tokens.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        prefix=secret[:12],
        secret_hash=digest(secret),
        scopes=[s for s in SCOPES if s in set(scopes)],
        owner_id=actor.id,
        created_at=now,
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    record_event(actor.id, "api_token.created", "api_token", token.id, name=name, scopes=token.scopes)
    db.session.commit()
    return token, secret


def revoke_token(actor: User, token_id: int, now: datetime | None = None) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("There is no such token.")
    if token.revoked_at is not None:
        raise DomainError("This token is already revoked.")
    token.revoked_at = now or now_utc()
    token.revoked_by_id = actor.id
    record_event(actor.id, "api_token.revoked", "api_token", token.id, name=token.name)
    db.session.commit()
    return token


def list_tokens() -> list[ApiToken]:
    """Every token, newest first, with its owner."""
    return list(
        db.session.execute(
            sa.select(ApiToken)
            .options(sa.orm.joinedload(ApiToken.owner))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        ).scalars()
    )


def token_for(secret: str, now: datetime) -> ApiToken | None:
    """The usable token with this secret: known, not revoked, not expired, its owner an active admin."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = db.session.execute(
        sa.select(ApiToken)
        .options(sa.orm.joinedload(ApiToken.owner))
        .where(ApiToken.secret_hash == digest(secret))
    ).scalar_one_or_none()
    if token is None or not token.usable_at(now):
        return None
    owner = token.owner
    if not owner.active or owner.role_enum is not Role.ADMIN:
        return None
    return token


def record_request(
    token_id: int, owner_id: int, method: str, path: str, status: int, request_id: str | None, now: datetime
) -> None:
    """Log one request and, at most once a minute, the token's last use; commits (after the request's work)."""
    db.session.add(
        ApiRequest(
            at=now,
            token_id=token_id,
            owner_id=owner_id,
            method=method[:8],
            path=path[:300],
            status=status,
            request_id=request_id,
        )
    )
    db.session.execute(
        sa.update(ApiToken)
        .where(
            ApiToken.id == token_id,
            sa.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - LAST_USE_EVERY),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def requests_of(token_id: int, limit: int = 50) -> list[ApiRequest]:
    return list(
        db.session.execute(
            sa.select(ApiRequest)
            .where(ApiRequest.token_id == token_id)
            .order_by(ApiRequest.at.desc(), ApiRequest.id.desc())
            .limit(limit)
        ).scalars()
    )

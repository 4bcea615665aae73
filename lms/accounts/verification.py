"""Links that prove the reader has a mailbox: confirm an address at registration, confirm a new address, and undo
an email change from the old one. Each link is signed and expires (itsdangerous, as the password reset is), and
names the state it changes, so it works once: once that state has moved on, the link is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lms.accounts.models import User
from lms.errors import DomainError
from lms.extensions import db

CONFIRM_SALT = "lms.email-confirm"
CHANGE_SALT = "lms.email-change"
UNDO_SALT = "lms.email-change-undo"


@dataclass(frozen=True)
class Purpose:
    salt: str
    max_age_setting: str
    noun: str  # what the refusal calls the link


CONFIRM = Purpose(CONFIRM_SALT, "EMAIL_CONFIRM_MAX_AGE", "confirmation link")
CHANGE = Purpose(CHANGE_SALT, "EMAIL_CONFIRM_MAX_AGE", "confirmation link")
UNDO = Purpose(UNDO_SALT, "EMAIL_UNDO_MAX_AGE", "link to undo the change")


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=purpose.salt)


def _stamp(moment: datetime | None) -> str:
    """A moment as a link carries it (aware UTC, to the microsecond the databases keep); "" for none."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds") if moment is not None else ""


def _dump(purpose: Purpose, payload: dict[str, Any]) -> str:
    return _serializer(purpose).dumps(payload)


def _load(purpose: Purpose, token: str) -> tuple[User, dict[str, Any]]:
    """The account a token names and what it says; a DomainError for a link expired, altered, or of no account."""
    try:
        payload = _serializer(purpose).loads(token, max_age=current_app.config[purpose.max_age_setting])
    except SignatureExpired as exc:
        raise DomainError(f"This {purpose.noun} has expired.") from exc
    except BadSignature as exc:
        raise DomainError(f"This {purpose.noun} is not valid. Copy the whole link from the email.") from exc
    user = db.session.get(User, payload.get("uid")) if isinstance(payload, dict) else None
    if user is None or not isinstance(payload.get("uid"), int):
        raise DomainError(f"This {purpose.noun} is not valid.")
    return user, payload


def confirmation_token(user: User) -> str:
    """The link that confirms the account's current address (it dies if the address changes first)."""
    return _dump(CONFIRM, {"uid": user.id, "email": user.email})


def account_to_confirm(token: str) -> User:
    user, payload = _load(CONFIRM, token)
    if payload.get("email") != user.email:
        raise DomainError("This confirmation link was for an address your account no longer uses.")
    return user


def change_token(user: User) -> str:
    """The link, sent to the new address, that applies the pending change (a newer request replaces it)."""
    return _dump(
        CHANGE, {"uid": user.id, "new": user.pending_email, "at": _stamp(user.email_change_requested_at)}
    )


def account_changing_email(token: str) -> User:
    user, payload = _load(CHANGE, token)
    if (
        user.pending_email is None
        or payload.get("new") != user.pending_email
        or payload.get("at") != _stamp(user.email_change_requested_at)
    ):
        raise DomainError(
            "This confirmation link has been used already, or a newer change replaced it. "
            "Your account's email is shown on your account page."
        )
    return user


def undo_token(user: User, old_email: str) -> str:
    """The link, sent to the old address, that puts it back; good through later changes until one undo is done."""
    return _dump(
        UNDO,
        {
            "uid": user.id,
            "old": old_email,
            "new": user.pending_email,
            "at": _stamp(user.email_change_requested_at),
        },
    )


def account_to_restore(token: str) -> tuple[User, str]:
    """The account and the address to put back. Refused once an undo was done after the link was made, or when
    there is nothing left to undo (the account uses that address and no change is waiting)."""
    user, payload = _load(UNDO, token)
    old = payload.get("old")
    try:
        made_at = datetime.fromisoformat(str(payload.get("at")))
    except ValueError as exc:
        raise DomainError(f"This {UNDO.noun} is not valid.") from exc
    requested, restored = user.email_change_requested_at, user.email_restored_at
    if (
        not isinstance(old, str)
        or requested is None
        or requested < made_at
        or (restored is not None and restored >= made_at)
        or (user.email == old and user.pending_email is None)
    ):
        raise DomainError("This change has been undone already; nothing more to undo.")
    return user, old

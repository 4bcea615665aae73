"""Accounts that an outside identity provider vouches for (lms.sso): created on a first sign-in, linked by a
verified address, and the rule another feature may add that an account does not sign in with a password.

Nothing here commits: the caller (lms.sso.operations) links the identity in the same transaction and commits once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from lms.accounts import sessions
from lms.accounts.models import Role, User
from lms.accounts.passwords import hash_password
from lms.audit import record_event
from lms.clock import now_utc
from lms.extensions import db

# name -> check(user) giving the reason this account may not use a password, or None. A feature registers its
# check in its register(app) (by name, so building many apps registers it once).
_PASSWORD_REFUSALS: dict[str, Callable[[User], str | None]] = {}


def refuse_passwords_with(name: str, check: Callable[[User], str | None]) -> None:
    """Add (or replace) a rule under which an account may not sign in or reset with a password."""
    _PASSWORD_REFUSALS[name] = check


def password_refusal(user: User) -> str | None:
    """Why `user` may not use a password (to sign in, or to reset one), or None when it may."""
    for check in _PASSWORD_REFUSALS.values():
        reason = check(user)
        if reason:
            return reason
    return None


def _unguessable_password_hash() -> str:
    """A password nobody knows: the account signs in through its provider until its owner sets one."""
    return hash_password(secrets.token_urlsafe(32))


def provision_account(email: str, full_name: str, role: Role, *, source: str) -> User:
    """Create an account for a person the identity provider vouches for (its address counts as confirmed); the
    caller commits. Raises sqlalchemy's IntegrityError when the address was taken meanwhile."""
    user = User(
        email=email.strip().lower(),
        full_name=" ".join(full_name.split()) or email,
        password_hash=_unguessable_password_hash(),
        role=role.value,
        email_verified_at=now_utc(),
    )
    db.session.add(user)
    db.session.flush()
    record_event(None, "user.registered", "user", user.id, role=role.value, source=source)
    return user


def claim_unconfirmed_account(user: User, *, source: str) -> bool:
    """An account whose address its holder never confirmed is being linked by a provider that verified the
    address: whoever created it may not be its owner, so its password and sessions end, and the address counts as
    confirmed. True when that happened."""
    if user.email_verified_at is not None:
        return False
    user.password_hash = _unguessable_password_hash()
    user.session_version += 1
    user.email_verified_at = now_utc()
    sessions.revoke_other_sessions(user, None)
    record_event(None, "user.password_cleared", "user", user.id, source=source)
    return True

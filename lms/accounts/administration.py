"""What an admin (or an API client with `users:write`) does to other people's accounts: invite someone, deactivate
and reactivate an account, send a password reset. Each change is audited and none commits: the caller commits
once, so a bulk enrolment's file applies in one transaction and its invitations leave only if it does.

An invited account has no usable password: its invitation carries a single-use link (the password-reset link,
valid for LMS_INVITATION_MAX_AGE instead of the reset's minutes) on which its owner chooses one. The address
counts as confirmed once that link is used, since it arrived there."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import current_app

from lms import events
from lms.accounts import sessions
from lms.accounts.emails import link, send_account_email
from lms.accounts.models import Role, User
from lms.accounts.passwords import hash_password
from lms.audit import record_event
from lms.clock import now_utc
from lms.errors import DomainError
from lms.extensions import db


def _actor_id(actor: User | None) -> int | None:
    return actor.id if actor is not None else None


def _active_admins() -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN.value, User.active.is_(True))
        )
        or 0
    )


def unusable_password_hash() -> str:
    """A real hash (sign-in takes as long as for anyone) of a random secret that is thrown away at once."""
    return hash_password(secrets.token_urlsafe(32))


def invite_user(
    actor: User | None,
    email: str,
    full_name: str,
    role: Role = Role.STUDENT,
    *,
    unusable_hash: str | None = None,
) -> User:
    """Create an account for `email` and write its invitation email (the caller commits). The address must be
    free; the name is cleaned as on sign-up. `unusable_hash`: a hash (unusable_password_hash()) of a secret nobody
    kept, computed once for many invitations (a bulk file): the hash is slow on purpose."""
    # Imported here: operations re-exports this module's verbs.
    from lms.accounts.operations import (
        _clean_name,
        find_user_by_email,
        make_password_reset_token,
        normalize_email,
    )

    email = normalize_email(email)
    full_name = _clean_name(full_name)
    if "@" not in email or len(email) > 254:
        raise DomainError("Enter a valid email address.", field="email")
    if find_user_by_email(email) is not None:
        raise DomainError("An account with this email already exists.", field="email")
    user = User(
        email=email,
        full_name=full_name,
        # Nobody knows this password: the invitation's link is the way in.
        password_hash=unusable_hash or unusable_password_hash(),
        role=role.value,
        email_verified_at=None,
    )
    db.session.add(user)
    db.session.flush()
    record_event(_actor_id(actor), "user.invited", "user", user.id, role=role.value)
    days = current_app.config["INVITATION_MAX_AGE"] // 86400
    send_account_email(
        user,
        "invitation",
        days=days,
        invited_by=actor.full_name if actor is not None else None,
        accept_link=link("accounts.reset_password", token=make_password_reset_token(user, invitation=True)),
    )
    return user


def deactivate_user(actor: User | None, user: User) -> bool:
    """Stop `user` from signing in and sign out every session of theirs at once; their records stay. False when
    already inactive. An admin cannot deactivate themselves, nor the last active admin."""
    if not user.active:
        return False
    if actor is not None and actor.id == user.id:
        raise DomainError("You cannot deactivate your own account.", field="user")
    if user.role_enum is Role.ADMIN and _active_admins() <= 1:
        raise DomainError("This is the last active admin account; make another admin first.", field="user")
    user.active = False
    revoked = sessions.revoke_other_sessions(user, None)
    record_event(_actor_id(actor), "user.deactivated", "user", user.id, sessions_ended=revoked)
    events.emit(
        events.AccountChanged(user_id=user.id, actor_id=_actor_id(actor), what="active", at=now_utc())
    )
    return True


def reactivate_user(actor: User | None, user: User) -> bool:
    """Let a deactivated account sign in again (with its own password; its old sessions stay ended). False when
    already active."""
    if user.active:
        return False
    user.active = True
    record_event(_actor_id(actor), "user.reactivated", "user", user.id)
    events.emit(
        events.AccountChanged(user_id=user.id, actor_id=_actor_id(actor), what="active", at=now_utc())
    )
    return True


def send_reset_for(actor: User | None, user: User) -> None:
    """Email `user` a password-reset link on an admin's request (the caller commits)."""
    from lms.accounts.operations import make_password_reset_token

    if not user.active:
        raise DomainError("This account is deactivated: reactivate it first.", field="user")
    send_account_email(
        user,
        "reset_password",
        minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60,
        reset_link=link("accounts.reset_password", token=make_password_reset_token(user)),
    )
    record_event(_actor_id(actor), "user.password_reset_sent", "user", user.id)

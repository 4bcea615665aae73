"""Account rules as verb-first functions: register, authenticate, change passwords and roles.

A change the account's owner must hear of (password, email, role) emits lms.events.AccountChanged."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lms import events
from lms.accounts.models import READER_COLUMNS, Reader, Role, User
from lms.accounts.passwords import hash_password, password_problem, verify_password
from lms.audit import record_event
from lms.clock import now_utc
from lms.database import single_read
from lms.errors import DomainError
from lms.extensions import db
from lms.timezones import zone_names

# Checked against when no account matches, so a missing account costs as long as a wrong password.
_DUMMY_HASH: dict[str, str] = {}
RESET_SALT = "lms.password-reset"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(email: str) -> User | None:
    return db.session.execute(
        sa.select(User).where(User.email == normalize_email(email))
    ).scalar_one_or_none()


def _check_password(password: str, *, email: str, full_name: str, field: str = "password") -> None:
    problem = password_problem(password, email=email, full_name=full_name)
    if problem:
        raise DomainError(problem, field=field)


def register_user(email: str, full_name: str, password: str, role: Role = Role.STUDENT) -> User:
    """Create an account; the email must be free and the password strong enough."""
    email = normalize_email(email)
    full_name = " ".join(full_name.split())
    if not full_name:
        raise DomainError("Enter your full name as it should appear on certificates.", field="full_name")
    if find_user_by_email(email) is not None:
        raise DomainError(
            "An account with this email already exists. Sign in, or reset your password.", "email"
        )
    _check_password(password, email=email, full_name=full_name)
    user = User(email=email, full_name=full_name, password_hash=hash_password(password), role=role.value)
    db.session.add(user)
    try:
        db.session.flush()
    except sa.exc.IntegrityError as exc:  # a concurrent registration took the email first
        db.session.rollback()
        raise DomainError("An account with this email already exists.", field="email") from exc
    record_event(user.id, "user.registered", "user", user.id, role=role.value)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User | None:
    """The active user with this email and password, or None (without telling which part was wrong)."""
    user = find_user_by_email(email)
    if user is None:
        method = current_app.config["PASSWORD_HASH_METHOD"]
        if method not in _DUMMY_HASH:
            _DUMMY_HASH[method] = hash_password("not-a-real-password")
        verify_password(_DUMMY_HASH[method], password)
        return None
    if not verify_password(user.password_hash, password) or not user.active:
        return None
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    if not verify_password(user.password_hash, current_password):
        raise DomainError("Your current password is not correct.", field="current_password")
    _set_password(user, new_password, field="new_password")
    record_event(user.id, "user.password_changed", "user", user.id)
    _announce_account_change(user, user.id, "password")
    db.session.commit()


def _set_password(user: User, new_password: str, field: str) -> None:
    _check_password(new_password, email=user.email, full_name=user.full_name, field=field)
    user.password_hash = hash_password(new_password)
    user.session_version += 1  # signs out every other session and remember-me cookie


def _announce_account_change(user: User, actor_id: int | None, what: str) -> None:
    """Flush the change to `user`, then tell listeners (events.AccountChanged) what changed, and when."""
    db.session.flush()
    events.emit(events.AccountChanged(user_id=user.id, actor_id=actor_id, what=what, at=now_utc()))


def update_profile(user: User, full_name: str, email: str) -> None:
    full_name = " ".join(full_name.split())
    email = normalize_email(email)
    if not full_name:
        raise DomainError("Enter your full name as it should appear on certificates.", field="full_name")
    if email != user.email and find_user_by_email(email) is not None:
        raise DomainError("Another account already uses this email.", field="email")
    changes = {}
    if full_name != user.full_name:
        changes["full_name"] = [user.full_name, full_name]
    if email != user.email:
        changes["email"] = [user.email, email]
    if not changes:
        return
    user.full_name = full_name
    user.email = email
    record_event(user.id, "user.profile_changed", "user", user.id, **changes)
    if "email" in changes:
        _announce_account_change(user, user.id, "email")
    db.session.commit()


def set_time_zone(user: User, name: str | None) -> None:
    """Show this account's times in the IANA zone `name`; empty or None: follow the browser (else UTC)."""
    name = (name or "").strip() or None
    if name is not None and name not in zone_names():  # the list the account page offers
        raise DomainError("Choose a time zone from the list, such as Europe/Berlin.", field="time_zone")
    if name == user.time_zone:
        return
    record_event(user.id, "user.time_zone_changed", "user", user.id, time_zone=[user.time_zone, name])
    user.time_zone = name
    db.session.commit()


def set_role(actor: User | None, user: User, role: Role) -> None:
    """Change a user's role, keeping at least one admin and a record of who did it."""
    old = user.role_enum
    if old is role:
        return
    if old is Role.ADMIN:
        admins = db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.role == Role.ADMIN.value)
        )
        if admins <= 1:
            raise DomainError("This is the last admin account; make another admin first.", field="role")
    user.role = role.value
    actor_id = actor.id if actor else None
    record_event(actor_id, "user.role_changed", "user", user.id, old=old.value, new=role.value)
    _announce_account_change(user, actor_id, "role")
    db.session.commit()


MAX_ACCOMMODATION_FACTOR = 4.0


def set_accommodation(actor: User | None, user: User, factor: float) -> None:
    """Set the time factor applied to every timed quiz this user starts from now on (1 = no extra time)."""
    factor = round(float(factor), 2)
    if not 1.0 <= factor <= MAX_ACCOMMODATION_FACTOR:
        raise DomainError("The time factor must be between 1 (no extra time) and 4.", field="factor")
    old = float(user.accommodation_factor or 1.0)
    if old == factor:
        return
    user.accommodation_factor = factor
    record_event(
        actor.id if actor else None, "user.accommodation_changed", "user", user.id, old=old, new=factor
    )
    db.session.commit()


def _reset_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=RESET_SALT)


def make_password_reset_token(user: User) -> str:
    # The session version makes the link single-use: once the password changes, it no longer matches.
    return _reset_serializer().dumps({"uid": user.id, "v": user.session_version})


def reset_password_with_token(token: str, new_password: str) -> User:
    try:
        payload = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired as exc:
        raise DomainError("This reset link has expired. Ask for a new one.") from exc
    except BadSignature as exc:
        raise DomainError("This reset link is not valid. Ask for a new one.") from exc
    user = db.session.get(User, payload.get("uid"))
    if user is None or not hmac.compare_digest(str(user.session_version), str(payload.get("v"))):
        raise DomainError("This reset link has already been used. Ask for a new one.")
    _set_password(user, new_password, field="password")
    record_event(user.id, "user.password_reset", "user", user.id)
    _announce_account_change(user, user.id, "password")
    db.session.commit()
    return user


# Built once: every signed-in request runs it (session.get builds its query anew each time).
_USER_BY_ID = sa.select(User).where(User.id == sa.bindparam("user_id"))


def load_user_from_session(user_id: str) -> User | None:
    """Flask-Login's loader: the id carries the session version, so old sessions die with a password change."""
    try:
        raw_id, raw_version = user_id.split(":", 1)
        user = db.session.execute(_USER_BY_ID, {"user_id": int(raw_id)}).scalar_one_or_none()
        version = int(raw_version)
    except (ValueError, TypeError):
        return None
    if user is None or not user.accepts_session(version):
        return None
    return user


def read_reader_with(statement: sa.Executable, params: dict[str, Any]) -> tuple[Reader, Sequence[Any]] | None:
    """Run a busy page's one statement, whose first columns are the account's (labelled_columns(User,
    READER_COLUMNS)) and the rest the page's own, outside any transaction: the Reader and the rest of the row;
    None when there is no such account."""
    with single_read() as connection:
        row = connection.execute(statement, params).first()
    if row is None:
        return None
    return Reader(*row[: len(READER_COLUMNS)]), row[len(READER_COLUMNS) :]

"""Account rules as verb-first functions: register, authenticate, change passwords and roles.

A change the account's owner must hear of (password, email, role) emits lms.events.AccountChanged."""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from lms import events
from lms.accounts import sessions, verification
from lms.accounts.administration import (  # noqa: F401  (admin verbs, re-exported)
    deactivate_user,
    invite_user,
    reactivate_user,
    send_reset_for,
    unusable_password_hash,
)
from lms.accounts.emails import link, send_account_email
from lms.accounts.external import (  # noqa: F401  (for lms.sso: accounts a provider vouches for)
    claim_unconfirmed_account,
    password_refusal,
    provision_account,
    refuse_passwords_with,
)
from lms.accounts.models import READER_COLUMNS, Reader, Role, User, UserSession
from lms.accounts.passwords import hash_password, password_problem, verify_password
from lms.accounts.sessions import (  # noqa: F401  (the sessions verbs, re-exported for views and tests)
    active_sessions,
    describe_device,
    end_one_session,
    end_other_sessions,
    end_session,
    parse_session_id,
    session_key,
    start_session,
)
from lms.audit import AuditEvent, record_event
from lms.clock import now_utc
from lms.database import labelled_columns, single_read
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


def _new_user(email: str, full_name: str, password: str, role: Role, verified_at: datetime | None) -> User:
    user = User(
        email=email,
        full_name=full_name,
        password_hash=hash_password(password),
        role=role.value,
        email_verified_at=verified_at,
    )
    db.session.add(user)
    try:
        db.session.flush()
    except sa.exc.IntegrityError as exc:  # a concurrent registration took the email first
        db.session.rollback()
        raise DomainError("An account with this email already exists.", field="email") from exc
    record_event(user.id, "user.registered", "user", user.id, role=role.value)
    return user


def _clean_name(full_name: str) -> str:
    full_name = " ".join(full_name.split())
    if not full_name:
        raise DomainError("Enter your full name as it should appear on certificates.", field="full_name")
    return full_name


def register_user(email: str, full_name: str, password: str, role: Role = Role.STUDENT) -> User:
    """Create an account for someone the operator vouches for (`lms create-user`, the demo accounts): its address
    counts as confirmed. People signing themselves up go through `sign_up`."""
    email = normalize_email(email)
    full_name = _clean_name(full_name)
    if find_user_by_email(email) is not None:
        raise DomainError(
            "An account with this email already exists. Sign in, or reset your password.", "email"
        )
    _check_password(password, email=email, full_name=full_name)
    user = _new_user(email, full_name, password, role, verified_at=now_utc())
    db.session.commit()
    return user


@dataclass(frozen=True)
class SignUp:
    user: User
    created: bool  # False: the address already had an account, which is left as it is


def sign_up(email: str, full_name: str, password: str) -> SignUp:
    """A visitor creates a student account whose address is not confirmed yet, and is sent a link to confirm it.

    When the address has an account already, nothing is created and its owner is told someone tried: the visitor
    sees the same answer either way, so the form does not reveal who has an account."""
    email = normalize_email(email)
    full_name = _clean_name(full_name)
    _check_password(password, email=email, full_name=full_name)
    existing = find_user_by_email(email)
    if existing is not None:
        hash_password(password)  # as long as creating one takes, so the time does not tell either
        send_account_email(
            existing,
            "registration_attempt",
            login_link=link("accounts.login"),
            reset_link=link("accounts.forgot_password"),
        )
        db.session.commit()
        return SignUp(existing, created=False)
    user = _new_user(email, full_name, password, Role.STUDENT, verified_at=None)
    _send_confirmation(user)
    db.session.commit()
    return SignUp(user, created=True)


def _send_confirmation(user: User) -> None:
    days = current_app.config["EMAIL_CONFIRM_MAX_AGE"] // 86400
    token = verification.confirmation_token(user)
    send_account_email(
        user,
        "confirm_address",
        days=days,
        confirm_link=link("accounts.confirm_email", token=token),
    )


def resend_confirmation(user: User) -> None:
    """Send the confirmation link again (the views limit how often)."""
    if user.email_verified:
        raise DomainError("Your email address is confirmed already.")
    _send_confirmation(user)
    db.session.commit()


def confirm_email(token: str, at: datetime | None = None) -> User:
    """Mark the address a confirmation link was sent to as confirmed (again: nothing changes)."""
    user = verification.account_to_confirm(token)
    if not user.email_verified:
        user.email_verified_at = at or now_utc()
        record_event(user.id, "user.email_confirmed", "user", user.id)
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


def record_sign_in(user: User, *, known_device: bool) -> None:
    """A sign-in with the password succeeded: keep it in the audit log, and tell the owner when it came from a
    browser that has not signed in to the account before (AccountChanged "new_device"; `known_device` is what the
    browser's signed known-device cookie says, lms.accounts.throttling). An account's first sign-in ever is no
    news to its owner, who just created it."""
    signed_in_before = db.session.execute(
        sa.select(AuditEvent.id)
        .where(
            AuditEvent.subject_type == "user",
            AuditEvent.subject_id == str(user.id),
            AuditEvent.action == "user.signed_in",
        )
        .limit(1)
    ).first()
    record_event(user.id, "user.signed_in", "user", user.id, new_device=not known_device)
    if not known_device and signed_in_before is not None:
        _announce_account_change(user, user.id, "new_device")
    db.session.commit()


def change_password(
    user: User, current_password: str, new_password: str, keep_session: str | None = None
) -> None:
    """Change the password; every session of the account but `keep_session` (a session key: this device's) is
    signed out."""
    if not verify_password(user.password_hash, current_password):
        raise DomainError("Your current password is not correct.", field="current_password")
    _set_password(user, new_password, field="new_password")
    sessions.revoke_other_sessions(user, keep_session)
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


def update_profile(user: User, full_name: str) -> None:
    """Change the name printed on certificates (the email changes through `request_email_change`)."""
    full_name = _clean_name(full_name)
    if full_name == user.full_name:
        return
    record_event(user.id, "user.profile_changed", "user", user.id, full_name=[user.full_name, full_name])
    user.full_name = full_name
    db.session.commit()


def request_email_change(
    user: User, new_email: str, current_password: str, at: datetime | None = None
) -> None:
    """Ask to move the account to a new address: it needs the current password, takes effect only once the new
    address confirms it, and the old address hears of it with a link to undo it."""
    new_email = normalize_email(new_email)
    if not verify_password(user.password_hash, current_password):
        raise DomainError("Your current password is not correct.", field="current_password")
    if new_email == user.email:
        raise DomainError("This is already your account's email address.", field="email")
    if find_user_by_email(new_email) is not None:
        raise DomainError("Another account already uses this email.", field="email")
    user.pending_email = new_email
    user.email_change_requested_at = at or now_utc()
    record_event(user.id, "user.email_change_requested", "user", user.id, new=new_email)
    db.session.flush()
    confirm_days = current_app.config["EMAIL_CONFIRM_MAX_AGE"] // 86400
    undo_days = current_app.config["EMAIL_UNDO_MAX_AGE"] // 86400
    send_account_email(
        user,
        "confirm_new_address",
        to=new_email,
        days=confirm_days,
        confirm_link=link("accounts.confirm_email_change", token=verification.change_token(user)),
    )
    send_account_email(
        user,
        "email_change_notice",
        new_email=new_email,
        days=undo_days,
        undo_link=link("accounts.undo_email_change", token=verification.undo_token(user, user.email)),
    )
    db.session.commit()


def confirm_email_change(token: str, at: datetime | None = None) -> User:
    """Apply the pending change a link sent to the new address names; it counts as confirmed from now."""
    user = verification.account_changing_email(token)
    new_email = str(user.pending_email)  # the link was checked against it
    if find_user_by_email(new_email) is not None:
        raise DomainError("Another account started using this address meanwhile; choose another one.")
    old_email = user.email
    user.email = new_email
    user.pending_email = None
    user.email_verified_at = at or now_utc()
    record_event(user.id, "user.profile_changed", "user", user.id, email=[old_email, new_email])
    _announce_account_change(user, user.id, "email")
    db.session.commit()
    return user


def undo_email_change(token: str, at: datetime | None = None) -> User:
    """The old address takes the account back: its email restored, any pending change dropped, and every
    session signed out (whoever changed it knew the password, so the owner should choose a new one next)."""
    user, old_email = verification.account_to_restore(token)
    at = at or now_utc()
    holder = find_user_by_email(old_email)
    if holder is not None and holder.id != user.id:
        raise DomainError(
            "Another account uses that address now, so it cannot be put back. Ask an administrator for help."
        )
    changed_from = user.email
    user.email = old_email
    user.pending_email = None
    user.email_verified_at = at
    user.email_restored_at = at
    user.session_version += 1
    record_event(user.id, "user.email_change_undone", "user", user.id, email=[changed_from, old_email])
    _announce_account_change(user, user.id, "email")
    db.session.commit()
    return user


def send_password_reset(email: str) -> None:
    """Email a reset link to the active account with this address, if there is one (callers say the same either
    way)."""
    user = find_user_by_email(email)
    if user is None or not user.active or password_refusal(user):
        return
    send_account_email(
        user,
        "reset_password",
        minutes=current_app.config["PASSWORD_RESET_MAX_AGE"] // 60,
        reset_link=link("accounts.reset_password", token=make_password_reset_token(user)),
    )
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


def make_password_reset_token(user: User, *, invitation: bool = False) -> str:
    # The session version makes the link single-use: once the password changes, it no longer matches. An
    # invitation's link (lms.accounts.administration) is the same link, valid for days instead of minutes.
    return _reset_serializer().dumps({"uid": user.id, "v": user.session_version, "inv": invitation})


def reset_password_with_token(token: str, new_password: str) -> User:
    try:
        payload = _reset_serializer().loads(token, max_age=current_app.config["INVITATION_MAX_AGE"])
        if not payload.get("inv"):
            payload = _reset_serializer().loads(token, max_age=current_app.config["PASSWORD_RESET_MAX_AGE"])
    except SignatureExpired as exc:
        raise DomainError("This reset link has expired. Ask for a new one.") from exc
    except BadSignature as exc:
        raise DomainError("This reset link is not valid. Ask for a new one.") from exc
    user = db.session.get(User, payload.get("uid"))
    if user is None or not hmac.compare_digest(str(user.session_version), str(payload.get("v"))):
        raise DomainError("This reset link has already been used. Ask for a new one.")
    if refusal := password_refusal(user):
        raise DomainError(refusal)
    _set_password(user, new_password, field="password")
    if not user.email_verified:  # the link came by email: the address is the owner's
        user.email_verified_at = now_utc()
    sessions.revoke_other_sessions(user, None)  # every device: whoever had the old password is out
    record_event(user.id, "user.password_reset", "user", user.id)
    _announce_account_change(user, user.id, "password")
    db.session.commit()
    return user


# Built once: every signed-in request runs it (session.get builds its query anew each time). The account with the
# server-side session its signed session names (none: no such account, or a session that is not its own).
_sessions_table = UserSession.__table__
_USER_AND_SESSION = (
    sa.select(
        User,
        _sessions_table.c.remember,
        _sessions_table.c.last_seen_at,
        _sessions_table.c.idle_until,
        _sessions_table.c.expires_at,
        _sessions_table.c.revoked_at,
    )
    .join(_sessions_table, _sessions_table.c.user_id == User.id)
    .where(User.id == sa.bindparam("user_id"), _sessions_table.c.key_hash == sa.bindparam("key"))
)


def load_user_from_session(user_id: str) -> User | None:
    """Flask-Login's loader, for the signed session and the remember-me cookie alike: the id names the account,
    its session version (old sessions die with a password change) and the server-side session, which must be
    live (lms.accounts.sessions: not signed out, not idle, not too old). Notes the visit (sessions.touch) at most
    once a minute."""
    parsed = parse_session_id(user_id)
    if parsed is None:
        return None
    uid, version, token = parsed
    key = session_key(token)
    row = db.session.execute(_USER_AND_SESSION, {"user_id": uid, "key": key}).first()
    if row is None:
        return None
    user = row[0]
    now = now_utc()
    if not user.accepts_session(version) or not sessions.is_live(row, now):
        return None
    if sessions.touch_due(row.last_seen_at, now) and not _writing_on_sqlite():
        sessions.touch(key, row.remember, now)
    user.session_token = token
    return user


def _writing_on_sqlite() -> bool:
    """Whether this request's SQLite connection holds the database's write lock already (a view that wrote before
    it first asked who is signed in): the touch, on a connection of its own, would then wait for it. It waits for
    the next request instead. PostgreSQL's row locks never meet: the touch writes only the session's row."""
    if db.session.get_bind().dialect.name != "sqlite":
        return False
    return bool(db.session.connection().connection.driver_connection.in_transaction)


# A busy page's first columns: the account's (READER_COLUMNS), then whether the request's server-side session is
# live and was seen within the last minute (sessions.live_and_fresh), as Reader takes them.
READER_SELECT = (
    *labelled_columns(User, READER_COLUMNS),
    sessions.live_and_fresh(User.__table__.c.id, "reader").label("users_session_live"),
)


def read_reader_with(
    statement: sa.Executable, params: dict[str, Any], session: str | None = None
) -> tuple[Reader, Sequence[Any]] | None:
    """Run a busy page's one statement, whose first columns are READER_SELECT and the rest the page's own, outside
    any transaction: the Reader (session_live for the server-side session whose key is `session`) and the rest of
    the row; None when there is no such account."""
    with single_read() as connection:
        row = connection.execute(statement, {**params, **sessions.fresh_params("reader", session)}).first()
    if row is None:
        return None
    width = len(READER_SELECT)
    return Reader(*row[: width - 1], bool(row[width - 1])), row[width:]


def set_password(actor: User | None, user: User, new_password: str) -> None:
    """Give an account a new password without the old one (an operator at the command line: `actor` None).
    The password rules apply, and every session of the account is signed out."""
    _set_password(user, new_password, field="password")
    record_event(actor.id if actor else None, "user.password_set", "user", user.id)
    _announce_account_change(user, actor.id if actor else None, "password")
    db.session.commit()

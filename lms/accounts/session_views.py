"""Signing in and out of a server-side session (lms.accounts.sessions), and the account's list of signed-in
devices with "Sign out everywhere else". Its routes sit on a blueprint of their own, nested in the accounts
blueprint (endpoints accounts.sessions.*)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import login_user, logout_user

from lms import compat
from lms.accounts import operations, throttling
from lms.accounts.access import acting_user, login_required
from lms.accounts.forms import EmptyForm
from lms.accounts.models import User
from lms.clock import now_utc

bp = Blueprint("sessions", __name__)


def this_session_key() -> str | None:
    """The key of the server-side session this request's signed session names (None without one)."""
    parsed = operations.parse_session_id(compat.session_user_id())
    return None if parsed is None else operations.session_key(parsed[2])


def _new_csrf_token() -> None:
    """Start the session on a new CSRF token (at sign-in and sign-out): a token seen before no longer works."""
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    session.pop(field, None)
    compat.forget_request_csrf_token(field)


def sign_in(user: User, remember: bool = False) -> None:
    """Sign `user` in on this device: a new server-side session, named in the signed session (and the remember-me
    cookie when asked), with a new CSRF token."""
    user.session_token = operations.start_session(
        user, remember=remember, address=request.remote_addr, user_agent=request.user_agent.string
    )
    login_user(user, remember=remember)
    _new_csrf_token()


def device_cookie() -> str | None:
    """This browser's signed known-device cookie (lms.accounts.throttling), if it has one."""
    return request.cookies.get(current_app.config["KNOWN_DEVICE_COOKIE_NAME"])


def knows_device(email: str) -> bool:
    """Whether this browser signed in to the account with this address before (its known-device cookie)."""
    return throttling.device_knows(device_cookie(), email)


def remember_device(response: Any, cookie: str | None, email: str) -> Any:
    """Mark this browser as one the account signed in from: it passes the per-account ceiling later."""
    response.set_cookie(
        current_app.config["KNOWN_DEVICE_COOKIE_NAME"],
        throttling.device_cookie_after_sign_in(cookie, email),
        max_age=int(current_app.config["KNOWN_DEVICE_DAYS"]) * 86400,
        secure=bool(current_app.config["SESSION_COOKIE_SECURE"]),
        httponly=True,
        samesite="Lax",
    )
    return response


def sign_in_again(user: User) -> None:
    """Re-issue this device's signed session for `user` after its session version changed (a new password),
    keeping its server-side session."""
    parsed = operations.parse_session_id(compat.session_user_id())
    if parsed is None:
        return
    user.session_token = parsed[2]
    remembered = request.cookies.get(current_app.config["REMEMBER_COOKIE_NAME"]) is not None
    login_user(user, remember=remembered)  # a remember-me cookie is re-issued with the new version


def sign_out() -> None:
    """End this device's server-side session (the user's other devices stay signed in), forget the signed
    session and the remember-me cookie, and start on a new CSRF token."""
    key = this_session_key()
    if key is not None:
        operations.end_session(key)
    logout_user()
    _new_csrf_token()


@bp.get("/account/sessions")
@login_required
def index() -> Any:
    """The devices signed in to this account, this one marked, with "Sign out everywhere else"."""
    return render_template(
        "accounts/sessions.html",
        sessions=operations.active_sessions(acting_user(), now_utc()),
        this_key=this_session_key(),
    )


@bp.post("/account/sessions/others/end")
@login_required
def end_others() -> Any:
    form = EmptyForm()
    key = this_session_key()
    if form.validate_on_submit() and key is not None:
        ended = operations.end_other_sessions(acting_user(), key)
        if ended:
            flash(f"Signed out on {ended} other device{'s' if ended != 1 else ''}.", "success")
        else:
            flash("You were not signed in anywhere else.", "info")
    return redirect(url_for("accounts.sessions.index"))


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
def end_one(session_id: int) -> Any:
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("accounts.sessions.index"))
    if not operations.end_one_session(acting_user(), session_id, this_session_key() or ""):
        abort(404)
    flash("That device is signed out.", "success")
    return redirect(url_for("accounts.sessions.index"))

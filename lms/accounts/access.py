"""Who may reach a view: every view declares it, and the app refuses to start if one does not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort, current_app, g, redirect, session, url_for
from flask_login import current_user

from lms.accounts.models import Identity, Role, User

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

ACCESS_ATTR = "_lms_access"
PRELOAD_ATTR = "_lms_preload"
CLAIMED_ATTR = "_lms_claimed"


def public(view: F) -> F:
    """Anyone, signed in or not."""
    setattr(view, ACCESS_ATTR, "public")
    return view


def anonymous_only(view: F) -> F:
    """Pages for visitors not signed in (sign in, register): signed-in users are sent to their dashboard."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_user.is_authenticated:
            return redirect(url_for("pages.dashboard"))
        return view(*args, **kwargs)

    setattr(wrapper, ACCESS_ATTR, "anonymous")
    return wrapper  # type: ignore[return-value]


def login_required(view: F) -> F:
    """Any signed-in user."""
    return roles_required(*Role)(view)


def roles_required(*roles: Role) -> Callable[[F], F]:
    """Signed-in users with one of `roles`; others get 403, visitors are sent to sign in."""
    allowed = frozenset(roles)
    admitted = tuple(sorted(role.value for role in allowed))  # as a Claim names them

    def decorate(view: F) -> F:
        preload = getattr(view, PRELOAD_ATTR, None)
        claimed = getattr(view, CLAIMED_ATTR, None)

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if claimed is not None:
                done = _try_claimed(claimed, admitted, kwargs)
                if done is not None:
                    return done
            if preload is not None:
                _preload_user(preload, kwargs)
            if not current_user.is_authenticated:
                from lms.extensions import login_manager

                return login_manager.unauthorized()
            if current_user.role_enum not in allowed:
                abort(403)
            return view(*args, **kwargs)

        setattr(wrapper, ACCESS_ATTR, frozenset(r.value for r in allowed))
        return wrapper  # type: ignore[return-value]

    return decorate


staff_required = roles_required(Role.INSTRUCTOR, Role.ADMIN)
admin_required = roles_required(Role.ADMIN)


Preload = Callable[..., "tuple[Identity, Any] | None"]


def reads_user_with(preload: Preload) -> Callable[[F], F]:
    """The view's first statement also reads the signed-in user, so the busiest pages pay one query, not two.

    `preload(user_id, **view_args)` runs that statement before the access check, for the user id the signed
    session names, and returns the account it read (a User, or a read-only Reader) with the page's rows, or None
    when there is no such account. The same checks as Flask-Login's loader
    (lms.accounts.operations.load_user_from_session) then decide: the session version must match and the account
    be active. If they pass, that account is the request's user and nothing else loads it, and the view takes its
    rows with preloaded_or(); otherwise (or without a session, as with a remember-me cookie) Flask-Login loads
    the user as on every other page. Put it below the access decorator, which is what runs it.
    """

    def decorate(view: F) -> F:
        setattr(view, PRELOAD_ATTR, preload)
        return view

    return decorate


def preloaded_or(read: Callable[[], tuple[Identity, T] | None]) -> T | None:
    """The rows the access check read with the request's user (reads_user_with), or, when it read none (a user
    signed in by a remember-me cookie), the rows `read()` reads now."""
    if "lms_preloaded" in g:
        return g.pop("lms_preloaded")  # type: ignore[no-any-return]
    found = read()
    return found[1] if found is not None else None


def _preload_user(preload: Preload, view_args: dict[str, Any]) -> None:
    claim = _unloaded_session_claim()
    if claim is None:
        return
    user_id, version = claim
    found = preload(user_id, **view_args)
    if found is None:
        return
    user, rows = found
    if user.id == user_id and user.accepts_session(version):
        g._login_user = user  # where Flask-Login keeps the request's user (flask_login.utils._get_user)
        g.lms_preloaded = rows


@dataclass(frozen=True, slots=True)
class Claim:
    """Who the signed session says is signed in (the user id and session version it was signed for), with the
    roles the route admits: not checked yet. A statement that acts on it checks it itself (claim_holds)."""

    user_id: int
    session_version: int
    roles: tuple[str, ...]

    @classmethod
    def of(cls, account: Identity) -> Claim:
        """The claim an account already signed in and admitted makes (for statements shared with claimed ones)."""
        return cls(account.id, account.session_version, (account.role,))

    def params(self) -> dict[str, Any]:
        """The values of claim_holds' parameters."""
        return {"claim_user": self.user_id, "claim_version": self.session_version, "claim_roles": self.roles}


def claim_holds(users: sa.Table) -> sa.ColumnElement[bool]:
    """SQL that is true for the users row the claim names when the claim holds: the account exists, is active,
    still has the session version the session was signed for (accepts_session) and one of the route's roles.
    Parameters from Claim.params()."""
    return sa.and_(
        users.c.id == sa.bindparam("claim_user"),
        users.c.session_version == sa.bindparam("claim_version"),
        users.c.active.is_(True),
        users.c.role.in_(sa.bindparam("claim_roles", expanding=True)),
    )


Claimed = Callable[..., Any]


def tries_claimed(attempt: Claimed) -> Callable[[F], F]:
    """Let the route's commonest request do its work in one statement that also checks who is signed in.

    `attempt(claim, **view_args)` runs first, before anything loads the user, with what the signed session claims
    (Claim: user id, session version and the roles the route admits). It may change nothing except in a statement
    that checks the claim itself (claim_holds), and it returns that statement's response, or None when that
    statement did nothing or it did not try (a malformed request, rows it does not know). With None the request
    goes the usual way: Flask-Login loads the user, the access check decides, the view runs, and says why not.
    So a save by a signed-in student costs one round trip to the database, not two, and the same rules decide
    whether it is theirs to make. Put it below the access decorator, which is what runs it.
    """

    def decorate(view: F) -> F:
        setattr(view, CLAIMED_ATTR, attempt)
        return view

    return decorate


def _try_claimed(attempt: Claimed, admitted: tuple[str, ...], view_args: dict[str, Any]) -> Any:
    claim = _unloaded_session_claim()
    if claim is None:
        return None
    user_id, version = claim
    return attempt(Claim(user_id, version, admitted), **view_args)


def _unloaded_session_claim() -> tuple[int, int] | None:
    """The session's claim (_session_claim), when the request has not loaded its user yet and Flask-Login's
    session protection accepts the session; None otherwise, and the user is then loaded the usual way."""
    if "_login_user" in g:  # already loaded in this request
        return None
    claim = _session_claim()
    if claim is None or current_app.login_manager._session_protection_failed():  # type: ignore[attr-defined]
        return None
    return claim


def _session_claim() -> tuple[int, int] | None:
    """The (user id, session version) the signed session names, as Flask-Login stored it (User.get_id)."""
    raw = session.get("_user_id")
    if not isinstance(raw, str):
        return None
    user_id, _, version = raw.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    return int(user_id), int(version)


def signed_in() -> Identity:
    """The signed-in account: the User row, or the Reader a page read with its own rows (reads_user_with)."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def acting_user() -> User:
    """The signed-in user as a real object (not Flask-Login's proxy), to hand to operations."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def undeclared_views(app: Any) -> list[str]:
    """Endpoints whose view says nothing about who may use it (static files excepted), and those that would read
    the user or act on a claim (reads_user_with, tries_claimed) where no role check runs them."""
    missing = []
    for endpoint, view in app.view_functions.items():
        if endpoint == "static" or endpoint.endswith(".static"):
            continue
        access = getattr(view, ACCESS_ATTR, None)
        if access is None:
            missing.append(endpoint)
        elif not isinstance(access, frozenset) and (
            hasattr(view, PRELOAD_ATTR) or hasattr(view, CLAIMED_ATTR)
        ):
            missing.append(f"{endpoint} (reads_user_with or tries_claimed must sit below roles_required)")
    return sorted(missing)

"""Who may reach a view: every view declares it, and the app refuses to start if one does not.

The rules are the decorators below. The busiest views also take a fast path before the role check (reading the
user in their own statement, or acting on the session's claim in one statement): those live in
lms.accounts.fast, which says which slow path each mirrors, and roles_required runs them through one hook
(fast.prepare_fast_path). Their names stay importable from here.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, redirect, url_for
from flask_login import current_user

from lms.accounts import fast
from lms.accounts.fast import (  # noqa: F401  (kept importable from here, where views and tests look)
    CLAIMED_ATTR,
    PRELOAD_ATTR,
    Claim,
    Claimed,
    Preload,
    _preload_user,
    _session_claim,
    _try_claimed,
    _unloaded_session_claim,
    claim_holds,
    preloaded_or,
    reads_user_with,
    session_holds,
    tries_claimed,
)
from lms.accounts.models import Identity, Role, User

F = TypeVar("F", bound=Callable[..., Any])

ACCESS_ATTR = "_lms_access"


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

    def decorate(view: F) -> F:
        fast_path = fast.prepare_fast_path(view, allowed)  # None for all but the busiest views

        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if fast_path is not None:
                done = fast_path(kwargs)
                if done is not None:
                    return done
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
        elif not isinstance(access, frozenset) and fast.uses_fast_path(view):
            missing.append(f"{endpoint} (reads_user_with or tries_claimed must sit below roles_required)")
    return sorted(missing)

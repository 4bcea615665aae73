"""Who may reach a view: every view declares it, and the app refuses to start if one does not."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, redirect, url_for
from flask_login import current_user

from lms.accounts.models import Role, User

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
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
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


def acting_user() -> User:
    """The signed-in user as a real object (not Flask-Login's proxy), to hand to operations."""
    return current_user._get_current_object()  # type: ignore[no-any-return]


def undeclared_views(app: Any) -> list[str]:
    """Endpoints whose view says nothing about who may use it (static files excepted)."""
    missing = []
    for endpoint, view in app.view_functions.items():
        if endpoint == "static" or endpoint.endswith(".static"):
            continue
        if not hasattr(view, ACCESS_ATTR):
            missing.append(endpoint)
    return sorted(missing)

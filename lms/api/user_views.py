"""/api/v1/users: create (an invitation), read, list, deactivate and reactivate."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_smorest import Blueprint

from lms.accounts import operations as accounts
from lms.accounts.models import Role, User
from lms.api.listing import paged
from lms.api.schemas import UserIn, UserListArgs, UserOut, UserPage
from lms.api.views import ApiProblem, acting_admin, requires
from lms.extensions import db

bp = Blueprint("api_users", __name__, url_prefix="/api/v1", description="Accounts: invite, read, deactivate")


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "full_name": user.full_name,
        "role": user.role,
        "active": user.active,
        "email_confirmed": user.email_verified_at is not None,
        "created_at": user.created_at,
    }


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise ApiProblem(404, "There is no user with this id.")
    return user


@bp.route("/users", methods=["GET"])
@requires("users:read")
@bp.arguments(UserListArgs, location="query", as_kwargs=True)
@bp.response(200, UserPage)
def list_users(limit: int, cursor: str | None = None, **filters: Any) -> Any:
    """List accounts, filtered by email, role or active."""
    stmt = sa.select(User)
    if filters.get("email"):
        stmt = stmt.where(User.email == accounts.normalize_email(filters["email"]))
    if filters.get("role"):
        stmt = stmt.where(User.role == filters["role"])
    if "active" in filters:
        stmt = stmt.where(User.active.is_(filters["active"]))
    return paged(stmt, User.id, "users", limit, cursor, user_json, "api_users.list_users", filters)


@bp.route("/users", methods=["POST"])
@requires("users:write")
@bp.arguments(UserIn)
@bp.response(
    201, UserOut, headers={"Location": {"schema": {"type": "string"}, "description": "The new user"}}
)
def create_user(data: dict[str, Any]) -> Any:
    """Create an account and email its owner an invitation (a single-use link to choose a password)."""
    user = accounts.invite_user(acting_admin(), data["email"], data["full_name"], Role(data["role"]))
    db.session.commit()
    return user_json(user), 201, {"Location": url_for("api_users.get_user", user_id=user.id)}


@bp.route("/users/<int:user_id>", methods=["GET"])
@requires("users:read")
@bp.response(200, UserOut)
def get_user(user_id: int) -> Any:
    """One account."""
    return user_json(_user(user_id))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@requires("users:write")
@bp.response(200, UserOut)
def deactivate_user(user_id: int) -> Any:
    """Deactivate an account: every session ends at once (not the token's own admin, nor the last admin)."""
    user = _user(user_id)
    accounts.deactivate_user(acting_admin(), user)
    db.session.commit()
    return user_json(user)


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@requires("users:write")
@bp.response(200, UserOut)
def reactivate_user(user_id: int) -> Any:
    """Reactivate a deactivated account."""
    user = _user(user_id)
    accounts.reactivate_user(acting_admin(), user)
    db.session.commit()
    return user_json(user)

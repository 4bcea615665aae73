"""The admin's list of users: search by email or name, filter by role and by active or deactivated, one page at a
time, newest first.

Fast at tens of thousands of accounts: a page reads its rows with LIMIT + 1 (is there a next page?) on the
(created_at, id) index, and the total is counted only up to COUNT_CAP (a count stops there, never walks the whole
table): past it, the page says "more than 1,000" and pages on with Previous and Next."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from lms.accounts.models import Role, User
from lms.extensions import db

PER_PAGE = 25
COUNT_CAP = 1000
STATUSES = {"active": True, "inactive": False}


@dataclass(frozen=True)
class UserPage:
    items: list[User]
    page: int
    total: int | None  # None: more than COUNT_CAP match
    has_next: bool
    per_page: int = PER_PAGE

    @property
    def pages(self) -> int | None:
        """How many pages, when the total is known."""
        return None if self.total is None else max(1, -(-self.total // self.per_page))


def _conditions(query: str, role: str, status: str) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if query:
        escaped = query.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        conditions.append(
            sa.or_(
                User.email.like(pattern, escape="\\"),
                sa.func.lower(User.full_name).like(pattern, escape="\\"),
            )
        )
    if role in {r.value for r in Role}:
        conditions.append(User.role == role)
    if status in STATUSES:
        conditions.append(User.active.is_(STATUSES[status]))
    return conditions


def list_users(query: str = "", role: str = "", status: str = "", page: int = 1) -> UserPage:
    """One page of the users matching the filters (an unknown role or status filters nothing), in two statements."""
    conditions = _conditions(query.strip()[:200], role, status)
    rows = list(
        db.session.scalars(
            sa.select(User)
            .where(*conditions)
            .order_by(User.created_at.desc(), User.id.desc())
            .limit(PER_PAGE + 1)
            .offset((page - 1) * PER_PAGE)
        )
    )
    capped = sa.select(User.id).where(*conditions).limit(COUNT_CAP + 1).subquery()
    counted = db.session.scalar(sa.select(sa.func.count()).select_from(capped)) or 0
    total = counted if counted <= COUNT_CAP else None
    return UserPage(rows[:PER_PAGE], page, total, len(rows) > PER_PAGE)

"""The user account and its role."""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column

from lms.clock import now_utc
from lms.database import UTCDateTime
from lms.extensions import db


class Role(enum.StrEnum):
    STUDENT = "student"
    INSTRUCTOR = "instructor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return self.value.capitalize()


STAFF_ROLES = frozenset({Role.INSTRUCTOR, Role.ADMIN})


class Identity(UserMixin):
    """What Flask-Login and the access rules ask of a signed-in account: the User row, or a Reader.

    Subclasses provide these attributes."""

    id: int
    email: str
    full_name: str
    role: str
    active: bool
    session_version: int
    time_zone: str | None

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def accepts_session(self, version: int) -> bool:
        """Whether a session signed for this session version still signs this user in."""
        return self.session_version == version and self.active

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def is_staff(self) -> bool:
        return self.role_enum in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role_enum is Role.ADMIN

    def has_role(self, *roles: Role) -> bool:
        return self.role_enum in roles


@dataclass(frozen=True, eq=False)
class Reader(Identity):
    """A signed-in account as a busy page reads it in its own statement, with the page's rows
    (lms.accounts.access.reads_user_with): what the layout and the access rules need, nothing to change."""

    id: int
    email: str
    full_name: str
    role: str
    active: bool
    session_version: int
    time_zone: str | None = None  # the times the page shows follow it (lms.timezones)


READER_COLUMNS = tuple(field.name for field in fields(Reader))  # the users columns a page reads for it


class User(Identity, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[str] = mapped_column(sa.String(20), default=Role.STUDENT.value)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped when the password changes, so every other session and remember-me cookie stops working.
    session_version: Mapped[int] = mapped_column(default=1)
    # Extra time for every timed quiz (1.5 = half as long again), set by staff for a documented need.
    accommodation_factor: Mapped[float] = mapped_column(sa.Float, default=1.0, server_default="1.0")
    # The IANA zone the account's pages show times in (Europe/Berlin); None: not chosen, the browser's zone is used.
    time_zone: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    __table_args__ = (
        sa.CheckConstraint("role IN ('student', 'instructor', 'admin')", name="role_known"),
        sa.CheckConstraint("email = lower(trim(email))", name="email_normalized"),
        sa.CheckConstraint(
            "accommodation_factor >= 1 AND accommodation_factor <= 4", name="accommodation_factor_range"
        ),
    )

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"

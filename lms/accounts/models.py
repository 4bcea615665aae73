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

    # The raw token of the server-side session this account is being signed in with (lms.accounts.sessions), set
    # just before Flask-Login stores get_id() in the signed session and the remember-me cookie.
    session_token: str | None = None

    def get_id(self) -> str:
        """What the signed session and the remember-me cookie name: "id:session_version:session token"."""
        if self.session_token:
            return f"{self.id}:{self.session_version}:{self.session_token}"
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
    # Whether the statement that read it found the request's server-side session live and recently seen
    # (lms.accounts.sessions.session_live): only then may it be the request's user without Flask-Login's loader.
    session_live: bool = False


# The users columns a page reads for a Reader (the last field, session_live, is computed: READER_SELECT).
READER_COLUMNS = tuple(field.name for field in fields(Reader) if field.name != "session_live")


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
    # When the owner proved they read mail at `email` (None: not yet, and the account may not enrol).
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # A new address asked for, applied only once a link sent there is opened (lms.accounts.verification).
    pending_email: Mapped[str | None] = mapped_column(sa.String(254), default=None)
    # When the last email change was asked for: the confirm and undo links name it, so each works once.
    email_change_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # When an undo link last put the old address back: undo links made before it no longer work.
    email_restored_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The IANA zone the account's pages show times in (Europe/Berlin); None: not chosen, the browser's zone is used.
    time_zone: Mapped[str | None] = mapped_column(sa.String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, onupdate=now_utc)

    __table_args__ = (
        sa.CheckConstraint("role IN ('student', 'instructor', 'admin')", name="role_known"),
        sa.CheckConstraint("email = lower(trim(email))", name="email_normalized"),
        sa.CheckConstraint("pending_email = lower(trim(pending_email))", name="pending_email_normalized"),
        sa.CheckConstraint(
            "accommodation_factor >= 1 AND accommodation_factor <= 4", name="accommodation_factor_range"
        ),
        # The admin's user list: newest first, one page at a time, without sorting the whole table.
        sa.Index("ix_users_created_at_id", "created_at", "id"),
        # Lists sorted by name (the gradebook): a page is read in this order rather than every row sorted.
        sa.Index("ix_users_name", sa.text("lower(full_name)"), "id"),
        # Searches by part of a name or an address (LIKE '%...%' on lower(full_name) and email: the gradebook, the
        # admins' user list) have trigram indexes on PostgreSQL, made by migration c21e00000001 outside the models
        # (lms.database.MIGRATION_ONLY_INDEXES).
    )

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email} {self.role}>"


class UserSession(db.Model):
    """One signed-in device: its session (and remember-me cookie) names the random token whose hash is here, and
    stops working once the row is revoked (sign-out), idle past idle_until or older than expires_at."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # SHA-256 of the token the cookie carries: a copy of this table signs nobody in.
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    remember: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    idle_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: no idle timeout
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: no absolute timeout
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    address: Mapped[str] = mapped_column(sa.String(45), default="")
    device: Mapped[str] = mapped_column(sa.String(100), default="")

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"

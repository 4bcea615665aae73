"""Notifications kept for the in-app list, each person's choice per kind, and private calendar feed tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.clock import now_utc
from lms.database import UTCDateTime
from lms.extensions import db

EMAIL = "email"  # in the list, and by email
IN_APP = "in_app"  # in the list only
OFF = "off"
CHANNELS = (EMAIL, IN_APP, OFF)


class Notification(db.Model):
    """One notice to one person. `dedupe_key` (unique when set) makes a reminder sent by a periodic job once only,
    however often the job runs; `emailed_at` is the email's ledger (a job run twice sends one email)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(40))
    subject: Mapped[str] = mapped_column(sa.String(200))
    body: Mapped[str] = mapped_column(sa.Text, default="")  # plain text, paragraphs split by blank lines
    link: Mapped[str] = mapped_column(sa.String(500), default="")  # a path in this site, or an absolute URL
    links: Mapped[list[dict[str, str]]] = mapped_column(
        sa.JSON, default=list
    )  # more links: [{"label", "url"}]
    channel: Mapped[str] = mapped_column(sa.String(10), default=EMAIL)  # the person's choice when it was made
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email_message_id: Mapped[str | None] = mapped_column(sa.String(200))
    # Account emails (verification, an address change told to the old address): sent to `email_to` when set
    # instead of the account's address, and kept out of the in-app list (`listed` False).
    email_to: Mapped[str | None] = mapped_column(sa.String(254))
    listed: Mapped[bool] = mapped_column(default=True, server_default=sa.true())

    __table_args__ = (
        sa.Index("ix_notifications_user_unread", "user_id", "read_at"),
        sa.CheckConstraint(sa.column("channel").in_(CHANNELS), name="channel"),
    )


class NotificationPreference(db.Model):
    """A person's channel for one kind; no row means the kind's default (email)."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (sa.CheckConstraint(sa.column("channel").in_(CHANNELS), name="channel"),)


class CalendarFeed(db.Model):
    """A person's private iCal address: a random token, replaced (and the old one dead) when they ask."""

    __tablename__ = "calendar_feeds"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

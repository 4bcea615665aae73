"""Tracks, modules and lessons (loaded from courses/), enrolments and lesson completions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from lms.clock import now_utc
from lms.courses import triggers
from lms.database import UTCDateTime
from lms.extensions import db


class Track(db.Model):
    __tablename__ = "tracks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(100), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text)
    certifies: Mapped[str] = mapped_column(sa.Text)
    validity_months: Mapped[int]
    unlock: Mapped[str] = mapped_column(sa.String(20), default="in_order")
    program_weeks: Mapped[int | None]
    # The completion rule as written in track.toml: {"modules": "all", "quizzes": [...], "assignment": "handbook"}
    completion: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    position: Mapped[int] = mapped_column(default=0)
    source_hash: Mapped[str] = mapped_column(sa.String(64))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # Goes up with every change to one of the track's modules or lessons (database triggers), so each process
    # can keep the track's content in memory and know when to read it again (lms.courses.snapshot).
    content_version: Mapped[int] = mapped_column(default=1, server_default="1")

    modules: Mapped[list[Module]] = relationship(back_populates="track", order_by="Module.position")

    __table_args__ = (sa.CheckConstraint("unlock IN ('in_order', 'free')", name="unlock_known"),)


class Module(db.Model):
    __tablename__ = "modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(sa.ForeignKey("tracks.id"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(100))
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    week: Mapped[int | None]
    position: Mapped[int] = mapped_column(default=0)
    source_hash: Mapped[str] = mapped_column(sa.String(64))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    track: Mapped[Track] = relationship(back_populates="modules")
    lessons: Mapped[list[Lesson]] = relationship(back_populates="module", order_by="Lesson.position")

    __table_args__ = (sa.UniqueConstraint("track_id", "slug"),)


class Lesson(db.Model):
    __tablename__ = "lessons"

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(sa.ForeignKey("tracks.id"), index=True)
    module_id: Mapped[int] = mapped_column(sa.ForeignKey("modules.id"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(100))
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    position: Mapped[int] = mapped_column(default=0)
    minutes: Mapped[int] = mapped_column(default=10)
    # Rendered once, at sync time, from the Markdown file and sanitized; requests serve this.
    body_html: Mapped[str] = mapped_column(sa.Text)
    source_hash: Mapped[str] = mapped_column(sa.String(64))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    module: Mapped[Module] = relationship(back_populates="lessons")

    __table_args__ = (sa.UniqueConstraint("track_id", "slug"),)


class Cohort(db.Model):
    """A group of students of one track who start together: due dates may count from its start."""

    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(sa.ForeignKey("tracks.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (sa.UniqueConstraint("track_id", "name"),)


class Enrollment(db.Model):
    """A student's place in a track. Leaving keeps the row (and progress): enrolling again reopens it."""

    __tablename__ = "enrollments"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    track_id: Mapped[int] = mapped_column(sa.ForeignKey("tracks.id"), index=True)
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_lesson_id: Mapped[int | None] = mapped_column(sa.ForeignKey("lessons.id"))
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cohort_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cohorts.id"), index=True)
    # The live lessons of the track the student completed (neither the lesson nor its module retired), kept as
    # they change: complete_lesson counts the student's again, a content sync that changes the track's lessons or
    # modules counts the track's again (lms.courses.progress). The gradebook sorts by it without reading completions.
    lessons_done: Mapped[int] = mapped_column(default=0, server_default="0")

    track: Mapped[Track] = relationship()
    cohort: Mapped[Cohort | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("user_id", "track_id"),
        # The gradebook sorted by enrolment date, or by progress: a page is read in this order.
        sa.Index("ix_enrollments_track_enrolled", "track_id", "enrolled_at"),
        sa.Index("ix_enrollments_track_lessons_done", "track_id", "lessons_done"),
    )

    @property
    def active(self) -> bool:
        return self.left_at is None


class LessonCompletion(db.Model):
    __tablename__ = "lesson_completions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    lesson_id: Mapped[int] = mapped_column(sa.ForeignKey("lessons.id"), index=True)
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (sa.UniqueConstraint("user_id", "lesson_id"),)


@sa.event.listens_for(Session, "before_flush")
def _note_content_changes(session: Session, _context: object, _instances: object) -> None:
    """Note the tracks whose modules or lessons this flush adds, changes or deletes (both tracks of a move).

    The database raises their content_version itself (triggers, lms.courses.triggers, for every writer); after
    the flush, the session's Track objects forget the version they hold, so they read the raised one."""
    changed: set[int] = session.info.setdefault("lms_content_changed", set())
    for item in (*session.new, *session.dirty, *session.deleted):
        if not isinstance(item, Module | Lesson):
            continue
        if item in session.dirty and not session.is_modified(item, include_collections=False):
            continue
        # A lesson always names its track; a new module may know its track only through the relationship.
        track_id = (
            item.track_id if item.track_id is not None else getattr(getattr(item, "track", None), "id", None)
        )
        if track_id is not None:
            changed.add(track_id)
        if item in session.dirty:  # moved to another track: the old one's content changed too
            changed.update(t for t in sa.inspect(item).attrs.track_id.history.deleted if t is not None)


@sa.event.listens_for(Session, "after_flush_postexec")
def _forget_raised_versions(session: Session, _context: object) -> None:
    changed: set[int] = session.info.pop("lms_content_changed", set())
    if changed:
        for item in list(session.identity_map.values()):
            if isinstance(item, Track) and item.id in changed:
                session.expire(item, ["content_version"])


# Every other writer (raw SQL, data migrations, psql) raises the version through database triggers.
triggers.listen(db.metadata)

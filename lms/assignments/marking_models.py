"""Second marking, moderation and calibration: which versions are second-marked, every second mark, moderator's
decision and calibration mark (each a row that is never changed), the exemplars markers calibrate on, waivers."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.assignments.models import Assignment, Submission
from lms.clock import now_utc
from lms.database import UTCDateTime
from lms.extensions import db


class ModerationState(enum.StrEnum):
    NOT_SAMPLED = "not_sampled"  # the draw left this version to its first marker alone
    AWAITING_SECOND = (
        "awaiting_second"  # sampled: waits for a complete second mark (and a complete first grade)
    )
    AGREED = "agreed"  # both marks within the tolerance: the first marker's grade stands
    AWAITING_MODERATION = "awaiting_moderation"  # beyond the tolerance: a moderator decides
    MODERATED = "moderated"  # the moderator's decision is the grade

    @property
    def label(self) -> str:
        return MODERATION_LABELS[self]


MODERATION_LABELS = {
    ModerationState.NOT_SAMPLED: "Not sampled",
    ModerationState.AWAITING_SECOND: "Waiting for the second marker",
    ModerationState.AGREED: "Second marker agrees",
    ModerationState.AWAITING_MODERATION: "Waiting for a moderator",
    ModerationState.MODERATED: "Moderated",
}
RELEASABLE = (ModerationState.NOT_SAMPLED, ModerationState.AGREED, ModerationState.MODERATED)
MARK_KINDS = ("first", "second", "moderation", "calibration")


class SecondMarking(db.Model):
    """The draw for one handed-in version (made when it is first graded) and where its second marking stands."""

    __tablename__ = "assignment_second_markings"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment_submissions.id"), unique=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignments.id"), index=True)
    sequence: Mapped[int]  # 1, 2, 3 ... the versions of this assignment in the order they were first graded
    share: Mapped[float] = mapped_column(sa.Float)  # the assignment's second_marking share when drawn
    phase: Mapped[float] = mapped_column(sa.Float)  # the assignment's fixed offset in [0, 1) (moderation.draw_offset)
    selected: Mapped[bool]
    drawn_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    state: Mapped[str] = mapped_column(sa.String(24))
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    submission: Mapped[Submission] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("assignment_id", "sequence"),
        sa.CheckConstraint(
            "state IN (" + ", ".join(repr(str(s)) for s in ModerationState) + ")", name="state_known"
        ),
        sa.CheckConstraint("selected OR state = 'not_sampled'", name="unsampled_not_marked"),
        sa.CheckConstraint("share >= 0 AND share <= 1", name="share_range"),
    )

    @property
    def state_enum(self) -> ModerationState:
        return ModerationState(self.state)


class Mark(db.Model):
    """One saved mark that is not the working grade: a second mark, a moderator's decision, a calibration mark on
    an exemplar, or ("first") the first marker's grade as it was when the moderator's decision replaced it.
    Never changed: saving again adds a row, and the newest of a marker's rows is theirs."""

    __tablename__ = "assignment_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(12))
    submission_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assignment_submissions.id"), index=True)
    exemplar_id: Mapped[int | None] = mapped_column(sa.ForeignKey("assignment_exemplars.id"), index=True)
    marker_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"), index=True)
    # {criterion id: {"slug", "level", "position", "points", "comment"}}; level None while not chosen
    levels: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    decision: Mapped[str | None] = mapped_column(sa.String(10))
    overall_comment: Mapped[str] = mapped_column(sa.Text, default="")
    points: Mapped[int] = mapped_column(default=0)
    max_points: Mapped[int] = mapped_column(default=0)
    complete: Mapped[bool] = mapped_column(default=False)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    marker: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint("kind IN ('first', 'second', 'moderation', 'calibration')", name="kind_known"),
        sa.CheckConstraint(
            "(kind = 'calibration') = (exemplar_id IS NOT NULL)", name="calibration_on_exemplar"
        ),
        sa.CheckConstraint("(exemplar_id IS NULL) = (submission_id IS NOT NULL)", name="marks_one_thing"),
        sa.CheckConstraint("decision IS NULL OR decision IN ('pass', 'revise')", name="decision_known"),
        sa.Index("ix_assignment_marks_latest", "kind", "submission_id", "marker_id", "saved_at"),
    )

    def level_of(self, criterion_id: int) -> str | None:
        return (self.levels.get(str(criterion_id)) or {}).get("level")

    def comment_of(self, criterion_id: int) -> str:
        return (self.levels.get(str(criterion_id)) or {}).get("comment", "")


class Exemplar(db.Model):
    """A reference piece of work from courses/<track>/exemplars/, with the level it deserves on each criterion."""

    __tablename__ = "assignment_exemplars"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignments.id"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(100))
    title: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)
    body_html: Mapped[str] = mapped_column(sa.Text)
    reference: Mapped[dict[str, str]] = mapped_column(sa.JSON)  # criterion slug -> level name
    rationale: Mapped[str] = mapped_column(sa.Text, default="")
    source_hash: Mapped[str] = mapped_column(sa.String(64))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    assignment: Mapped[Assignment] = relationship()

    __table_args__ = (sa.UniqueConstraint("assignment_id", "slug"),)


class CalibrationWaiver(db.Model):
    """An admin let a marker grade a track's work without calibrating first."""

    __tablename__ = "assignment_calibration_waivers"

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(sa.ForeignKey("tracks.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    waived_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    waived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (sa.UniqueConstraint("track_id", "user_id"),)

"""Assignments (loaded from track.toml), their rubrics, uploaded versions, grades (with the rubric they were given
against and the feedback files attached), regrades and extensions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import now_utc
from lms.courses.models import Track
from lms.database import UTCDateTime
from lms.extensions import db

FILE_TYPES = ("pdf", "docx", "pptx", "odt", "md", "txt")
DUE_FROM = ("enrolment", "cohort")
MAX_REASON = 2000  # characters: a reason or reply someone writes (an extension, a regrade request or answer)


class SubmissionState(enum.StrEnum):
    DRAFT = "draft"  # uploaded, not yet handed in
    REPLACED = "replaced"  # a draft replaced by a newer upload before it was handed in
    SUBMITTED = "submitted"  # handed in, waiting for a grader
    SUPERSEDED = "superseded"  # handed in, then replaced by a newer version before grading started
    IN_GRADING = "in_grading"  # a grader saved part of a grade
    GRADED = "graded"  # every criterion and the decision are set, not yet released
    RETURNED = "returned"  # released to the student: returned for revision
    RELEASED = "released"  # released to the student: passed

    @property
    def label(self) -> str:
        return STATE_LABELS[self]


STATE_LABELS = {
    SubmissionState.DRAFT: "Draft",
    SubmissionState.REPLACED: "Replaced draft",
    SubmissionState.SUBMITTED: "Submitted",
    SubmissionState.SUPERSEDED: "Superseded",
    SubmissionState.IN_GRADING: "In grading",
    SubmissionState.GRADED: "Graded",
    SubmissionState.RETURNED: "Returned for revision",
    SubmissionState.RELEASED: "Passed",
}
HANDED_IN = (
    SubmissionState.SUBMITTED,
    SubmissionState.SUPERSEDED,
    SubmissionState.IN_GRADING,
    SubmissionState.GRADED,
    SubmissionState.RETURNED,
    SubmissionState.RELEASED,
)
PENDING = (SubmissionState.SUBMITTED, SubmissionState.IN_GRADING, SubmissionState.GRADED)
GRADABLE = PENDING
RELEASED_STATES = (SubmissionState.RETURNED, SubmissionState.RELEASED)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"


class Assignment(db.Model):
    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    track_id: Mapped[int] = mapped_column(sa.ForeignKey("tracks.id"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(100))
    title: Mapped[str] = mapped_column(sa.String(200))
    # Rendered once, at sync time, from the brief's Markdown and sanitized; requests serve this.
    brief_html: Mapped[str] = mapped_column(sa.Text, default="")
    due_days: Mapped[int]
    cutoff_days: Mapped[int | None]
    # What due_days count from: each student's enrolment, or the start of the student's cohort.
    due_from: Mapped[str] = mapped_column(sa.String(16), default="enrolment", server_default="enrolment")
    formats: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    max_size_mb: Mapped[int] = mapped_column(default=25)
    blind_marking: Mapped[bool] = mapped_column(default=False)
    pass_percent: Mapped[int] = mapped_column(default=60)
    no_missing_criterion: Mapped[bool] = mapped_column(default=False)
    # Second marking (lms.assignments.moderation): the share of versions a second marker grades blind, and the
    # tolerance beyond which a moderator decides: more than this many points apart on the total, or more than this
    # many levels apart on any one criterion (or a different pass / revise decision).
    second_marking: Mapped[float] = mapped_column(sa.Float, default=0.0, server_default="0")
    moderation_points: Mapped[int] = mapped_column(default=2, server_default="2")
    moderation_levels: Mapped[int] = mapped_column(default=1, server_default="1")
    source_hash: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[int] = mapped_column(default=1)  # bumped by each sync that changes it
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    track: Mapped[Track] = relationship()
    criteria: Mapped[list[Criterion]] = relationship(
        back_populates="assignment", order_by="Criterion.position"
    )

    __table_args__ = (
        sa.UniqueConstraint("track_id", "slug"),
        sa.CheckConstraint("due_days > 0", name="due_days_positive"),
        sa.CheckConstraint(_in("due_from", DUE_FROM), name="due_from_known"),
        sa.CheckConstraint("cutoff_days IS NULL OR cutoff_days >= 0", name="cutoff_not_negative"),
        sa.CheckConstraint("max_size_mb > 0", name="max_size_positive"),
        sa.CheckConstraint("pass_percent BETWEEN 0 AND 100", name="pass_percent_range"),
        sa.CheckConstraint("second_marking >= 0 AND second_marking <= 1", name="second_marking_range"),
        sa.CheckConstraint(
            "moderation_points >= 0 AND moderation_levels >= 0", name="tolerance_not_negative"
        ),
    )

    @property
    def max_bytes(self) -> int:
        return self.max_size_mb * 1024 * 1024

    @property
    def active_criteria(self) -> list[Criterion]:
        return [c for c in self.criteria if c.retired_at is None]


class Criterion(db.Model):
    __tablename__ = "assignment_criteria"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignments.id"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(100))
    title: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    assignment: Mapped[Assignment] = relationship(back_populates="criteria")
    levels: Mapped[list[CriterionLevel]] = relationship(
        back_populates="criterion", order_by="CriterionLevel.position", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.UniqueConstraint("assignment_id", "slug"),)

    @property
    def max_points(self) -> int:
        return max((level.points for level in self.levels), default=0)

    @property
    def lowest_points(self) -> int:
        return min((level.points for level in self.levels), default=0)

    def level(self, name: str | None) -> CriterionLevel | None:
        return next((level for level in self.levels if level.name == name), None)


class CriterionLevel(db.Model):
    """One level of a criterion. Scores copy the name and points, so editing the rubric never rewrites a grade."""

    __tablename__ = "assignment_criterion_levels"

    id: Mapped[int] = mapped_column(primary_key=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment_criteria.id"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(sa.String(60))
    points: Mapped[int]
    descriptor: Mapped[str] = mapped_column(sa.Text)

    criterion: Mapped[Criterion] = relationship(back_populates="levels")

    __table_args__ = (
        sa.UniqueConstraint("criterion_id", "position"),
        sa.CheckConstraint("points >= 0", name="points_not_negative"),
    )


class Extension(db.Model):
    """A per-student due date granted by staff. Rows are never changed: the latest grant applies."""

    __tablename__ = "assignment_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignments.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])


class Submission(db.Model):
    """One uploaded file: a draft until handed in, then a version that is kept for good."""

    __tablename__ = "assignment_submissions"

    id: Mapped[int] = mapped_column(primary_key=True)  # also the submission number graders see
    assignment_id: Mapped[int] = mapped_column(sa.ForeignKey("assignments.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    state: Mapped[str] = mapped_column(sa.String(20), default=SubmissionState.DRAFT.value)
    # The file: stored under a random name in UPLOAD_DIR; the original name is only ever displayed.
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    original_name: Mapped[str] = mapped_column(sa.String(255))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    detected_type: Mapped[str] = mapped_column(sa.String(10))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # Set when handed in:
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int | None]  # 1, 2, 3 ... among this student's handed-in versions
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the due date that applied then
    late_seconds: Mapped[int | None]  # > 0: handed in this long after the due date
    is_revision: Mapped[bool] = mapped_column(default=False)  # handed in after a return for revision
    # A draft never handed in may lose its file (the row stays, saying who removed it and when): "deleted" by
    # the student (removed_by), or "pruned" once replaced for longer than the retention period (nobody).
    file_removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    file_removed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    file_removed_reason: Mapped[str | None] = mapped_column(sa.String(10))

    assignment: Mapped[Assignment] = relationship()
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    grade: Mapped[Grade | None] = relationship(back_populates="submission", uselist=False)

    __table_args__ = (
        sa.CheckConstraint(_in("state", tuple(SubmissionState)), name="state_known"),
        sa.CheckConstraint(_in("detected_type", FILE_TYPES), name="type_known"),
        sa.CheckConstraint("size_bytes > 0", name="not_empty"),
        sa.CheckConstraint(
            "state IN ('draft', 'replaced') OR (submitted_at IS NOT NULL AND version IS NOT NULL)",
            name="handed_in_has_time",
        ),
        sa.CheckConstraint("late_seconds IS NULL OR late_seconds >= 0", name="late_not_negative"),
        # Only a replaced draft (never handed in) can be without its file, and it says why.
        sa.CheckConstraint(
            "(file_removed_at IS NULL AND file_removed_reason IS NULL) OR "
            "(state = 'replaced' AND file_removed_at IS NOT NULL AND file_removed_reason IN ('deleted', 'pruned'))",
            name="file_removed_only_from_drafts",
        ),
        # At most one draft and one version waiting for a grade per student and assignment.
        sa.Index(
            "uq_assignment_submissions_one_draft",
            "assignment_id",
            "user_id",
            unique=True,
            sqlite_where=sa.text("state = 'draft'"),
            postgresql_where=sa.text("state = 'draft'"),
        ),
        sa.Index(
            "uq_assignment_submissions_one_pending",
            "assignment_id",
            "user_id",
            unique=True,
            sqlite_where=sa.text("state IN ('submitted', 'in_grading', 'graded')"),
            postgresql_where=sa.text("state IN ('submitted', 'in_grading', 'graded')"),
        ),
        sa.Index("ix_assignment_submissions_queue", "state", "submitted_at"),
        # The grading queue's order (oldest handed in first): a page is read off this index, whatever the size.
        sa.Index("ix_assignment_submissions_submitted", "submitted_at", "id"),
    )

    @property
    def state_enum(self) -> SubmissionState:
        return SubmissionState(self.state)

    @property
    def is_late(self) -> bool:
        return bool(self.late_seconds)

    @property
    def is_released(self) -> bool:
        return self.state_enum in RELEASED_STATES

    @property
    def has_file(self) -> bool:
        return self.file_removed_at is None


class Grade(db.Model):
    """The grader's working grade for one submission; the student sees it only once released."""

    __tablename__ = "assignment_grades"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment_submissions.id"), unique=True)
    grader_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    overall_comment: Mapped[str] = mapped_column(sa.Text, default="")
    decision: Mapped[str | None] = mapped_column(sa.String(10))  # "pass" | "revise"
    points: Mapped[int] = mapped_column(default=0)
    max_points: Mapped[int] = mapped_column(default=0)
    complete: Mapped[bool] = mapped_column(default=False)  # every criterion has a level and a decision is set
    meets_pass_rule: Mapped[bool] = mapped_column(default=False)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    release_count: Mapped[int] = mapped_column(default=0)
    # The rubric this grade was given against, as at its last save: each criterion with its levels and points
    # (lms.assignments.rubric). What the student reads comes from here, so a later rubric edit changes nothing.
    rubric: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    submission: Mapped[Submission] = relationship(back_populates="grade")
    scores: Mapped[list[CriterionScore]] = relationship(back_populates="grade", cascade="all, delete-orphan")
    grader: Mapped[User | None] = relationship(foreign_keys=[grader_id])

    __table_args__ = (
        sa.CheckConstraint("decision IS NULL OR decision IN ('pass', 'revise')", name="decision_known"),
        sa.CheckConstraint("released_at IS NULL OR complete", name="released_is_complete"),
        sa.CheckConstraint(
            "decision IS NULL OR decision <> 'pass' OR NOT complete OR meets_pass_rule",
            name="pass_meets_rule",
        ),
    )

    @property
    def percent(self) -> float:
        return round(100 * self.points / self.max_points, 1) if self.max_points else 0.0

    def score_for(self, criterion_id: int) -> CriterionScore | None:
        return next((s for s in self.scores if s.criterion_id == criterion_id), None)

    def snapshot(self) -> dict[str, Any]:
        """The grade's values as plain data, for the history of changes."""
        return {
            "scores": {
                str(s.criterion_id): {"level": s.level_name, "points": s.points, "comment": s.comment}
                for s in sorted(self.scores, key=lambda s: s.criterion_id)
            },
            "overall_comment": self.overall_comment,
            "decision": self.decision,
            "points": self.points,
            "max_points": self.max_points,
            "rubric_version": (self.rubric or {}).get("assignment_version"),
        }


class CriterionScore(db.Model):
    __tablename__ = "assignment_criterion_scores"

    id: Mapped[int] = mapped_column(primary_key=True)
    grade_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment_grades.id"), index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment_criteria.id"), index=True)
    level_name: Mapped[str | None] = mapped_column(sa.String(60))
    points: Mapped[int | None]
    comment: Mapped[str] = mapped_column(sa.Text, default="")

    grade: Mapped[Grade] = relationship(back_populates="scores")
    criterion: Mapped[Criterion] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("grade_id", "criterion_id"),
        sa.CheckConstraint("(level_name IS NULL) = (points IS NULL)", name="level_has_points"),
    )


class GradeChange(db.Model):
    """Every change to a grade, with who, when, and the values before and after. Never updated or deleted."""

    __tablename__ = "assignment_grade_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    grade_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment_grades.id"), index=True)
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment_submissions.id"), index=True)
    changed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    action: Mapped[str] = mapped_column(sa.String(20))  # "saved" | "released" | "reopened"
    old: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    new: Mapped[dict[str, Any]] = mapped_column(sa.JSON)

    changed_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.CheckConstraint("action IN ('saved', 'released', 'reopened')", name="action_known"),)


class FeedbackFile(db.Model):
    """A file a grader attached to the feedback (an annotated PDF, say). Never changed or deleted: attaching
    another makes the next version, and the newest is the one the student downloads once the grade is released."""

    __tablename__ = "assignment_feedback_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    grade_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment_grades.id"), index=True)
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment_submissions.id"), index=True)
    version: Mapped[int]  # 1, 2, 3 ... per grade
    stored_name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    original_name: Mapped[str] = mapped_column(sa.String(255))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    detected_type: Mapped[str] = mapped_column(sa.String(10))
    source: Mapped[str] = mapped_column(sa.String(10), default="page")  # "page" | "zip" (bulk upload)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    uploaded_by: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("grade_id", "version"),
        sa.CheckConstraint(_in("detected_type", FILE_TYPES), name="type_known"),
        sa.CheckConstraint("source IN ('page', 'zip')", name="source_known"),
        sa.CheckConstraint("size_bytes > 0", name="not_empty"),
        sa.CheckConstraint("version > 0", name="version_positive"),
    )


class RegradeState(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"  # grading reopened
    DECLINED = "declined"  # the grade stands


class RegradeRequest(db.Model):
    """A student's request to look at a released grade again: at most one per release."""

    __tablename__ = "assignment_regrade_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(sa.ForeignKey("assignment_submissions.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    release_number: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.Text)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    state: Mapped[str] = mapped_column(sa.String(10), default=RegradeState.OPEN.value)
    response: Mapped[str] = mapped_column(sa.Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint("submission_id", "release_number"),
        # The open ones, for the grading queue.
        sa.Index("ix_assignment_regrade_requests_state", "state", "submission_id"),
        sa.CheckConstraint(_in("state", tuple(RegradeState)), name="state_known"),
        sa.CheckConstraint("(state = 'open') = (answered_at IS NULL)", name="answered_has_time"),
    )

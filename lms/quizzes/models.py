"""Quizzes loaded from quizzes/, their versions, attempts, every acknowledged answer save, and staff overrides."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import now_utc
from lms.database import UTCDateTime
from lms.extensions import db

IN_PROGRESS = "in_progress"
SUBMITTED = "submitted"
RECERTIFICATION = "recertification"  # a quiz kind: renews a certificate, never part of earning one


class Quiz(db.Model):
    """A quiz as its file says now; the questions live in versions, so old attempts keep theirs."""

    __tablename__ = "quizzes"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(100), unique=True)
    title: Mapped[str] = mapped_column(sa.String(200))
    track_id: Mapped[int] = mapped_column(sa.ForeignKey("tracks.id"), index=True)
    module_id: Mapped[int | None] = mapped_column(sa.ForeignKey("modules.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    time_limit_seconds: Mapped[int]
    attempts_allowed: Mapped[int] = mapped_column(default=0)  # 0: unlimited
    delay_between_attempts_seconds: Mapped[int] = mapped_column(default=0)
    pass_percent: Mapped[float] = mapped_column(sa.Float)
    grading: Mapped[str] = mapped_column(sa.String(10), default="highest")
    shuffle_questions: Mapped[bool] = mapped_column(default=True)
    shuffle_choices: Mapped[bool] = mapped_column(default=True)
    draw: Mapped[int]
    review: Mapped[str] = mapped_column(sa.String(20), default="correct_answers")
    review_after: Mapped[str] = mapped_column(sa.String(10), default="submit")
    on_expiry: Mapped[str] = mapped_column(sa.String(12), default="auto_submit")
    grace_seconds: Mapped[int] = mapped_column(default=0)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The exam's blueprint, [{module, type, difficulty, count}, ...] (lms.quizzes.blueprint); None: a plain draw.
    blueprint: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON)
    bank: Mapped[str | None] = mapped_column(
        sa.String(100)
    )  # the quiz whose items it draws, as its file says
    current_version: Mapped[int] = mapped_column(default=1)
    source_hash: Mapped[str] = mapped_column(sa.String(64))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (
        sa.CheckConstraint("kind IN ('module', 'final', 'recertification')", name="kind_known"),
        sa.CheckConstraint("time_limit_seconds > 0", name="time_limit_positive"),
        sa.CheckConstraint("attempts_allowed >= 0", name="attempts_allowed_not_negative"),
        sa.CheckConstraint("delay_between_attempts_seconds >= 0", name="delay_not_negative"),
        sa.CheckConstraint("pass_percent > 0 AND pass_percent <= 100", name="pass_percent_range"),
        sa.CheckConstraint("grading IN ('highest', 'last')", name="grading_known"),
        sa.CheckConstraint("draw > 0", name="draw_positive"),
        sa.CheckConstraint("review IN ('score_only', 'answers', 'correct_answers')", name="review_known"),
        sa.CheckConstraint("review_after IN ('submit', 'close')", name="review_after_known"),
        sa.CheckConstraint("on_expiry IN ('auto_submit', 'grace')", name="on_expiry_known"),
        sa.CheckConstraint("grace_seconds >= 0", name="grace_not_negative"),
    )

    @property
    def time_limit_minutes(self) -> float:
        return self.time_limit_seconds / 60


class QuizVersion(db.Model):
    """The questions of a quiz as they were at one sync; never changed once attempts point at it."""

    __tablename__ = "quiz_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quizzes.id"), index=True)
    number: Mapped[int]
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    # The question pool as parsed: [{"id", "type", "points", "prompt", "feedback", "choices": [...], ...}]
    questions: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (sa.UniqueConstraint("quiz_id", "number"),)

    def question_map(self) -> dict[str, dict[str, Any]]:
        return {q["id"]: q for q in self.questions}


class Attempt(db.Model):
    """One sitting: the questions drawn (and their order) and the deadline are fixed here when it starts."""

    __tablename__ = "quiz_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quizzes.id"), index=True)
    quiz_version_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_versions.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    number: Mapped[int]  # 1, 2, 3 ... per student and quiz
    state: Mapped[str] = mapped_column(sa.String(12), default=IN_PROGRESS)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    time_limit_seconds: Mapped[int]  # the quiz's limit when it started
    accommodation_factor: Mapped[float] = mapped_column(sa.Float, default=1.0)
    extra_seconds: Mapped[int] = mapped_column(default=0)  # added by staff while in progress
    cut_by_close: Mapped[bool] = mapped_column(default=False)
    deadline: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    on_expiry: Mapped[str] = mapped_column(sa.String(12), default="auto_submit")
    grace_seconds: Mapped[int] = mapped_column(default=0)
    # [{"question": "id", "choices": ["c2", "c1", ...]}] in the order shown
    layout: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_by: Mapped[str | None] = mapped_column(sa.String(12))  # student | timer | server
    score: Mapped[float | None] = mapped_column(sa.Float)
    max_score: Mapped[float | None] = mapped_column(sa.Float)
    percent: Mapped[float | None] = mapped_column(sa.Float)
    passed: Mapped[bool | None]
    # Per question, as scored: {"id": {"answer": ..., "points": 1.0, "max": 1.0, "save_id": 7}}
    results: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # The questions the student flagged for review, in the attempt's order (lms.quizzes.summary); assigned anew on
    # each change, never edited in place.
    flagged: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default=sa.text("'[]'"))

    version: Mapped[QuizVersion] = relationship()
    quiz: Mapped[Quiz] = relationship()

    __table_args__ = (
        sa.UniqueConstraint("user_id", "quiz_id", "number"),
        # At most one attempt in progress per student and quiz: two tabs starting at once get the same one.
        sa.Index(
            "uq_quiz_attempts_one_in_progress",
            "user_id",
            "quiz_id",
            unique=True,
            sqlite_where=sa.text("state = 'in_progress'"),
            postgresql_where=sa.text("state = 'in_progress'"),
        ),
        sa.CheckConstraint("state IN ('in_progress', 'submitted')", name="state_known"),
        sa.CheckConstraint(
            "state = 'in_progress' OR (submitted_at IS NOT NULL AND score IS NOT NULL AND results IS NOT NULL)",
            name="submitted_is_scored",
        ),
        sa.CheckConstraint("accommodation_factor >= 1", name="factor_at_least_one"),
        sa.CheckConstraint("extra_seconds >= 0", name="extra_not_negative"),
    )

    @property
    def is_open(self) -> bool:
        return self.state == IN_PROGRESS

    @property
    def question_ids(self) -> list[str]:
        return [item["question"] for item in self.layout]


class AnswerSave(db.Model):
    """Every acknowledged answer, as a row of its own. The answer to a question is its save with the highest
    sequence number (the first stored of equals): a save that is not newer than the stored answer when it arrives
    is kept and answered "not current", and never becomes the answer (lms.quizzes.saving)."""

    __tablename__ = "quiz_answer_saves"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Indexed by ix_quiz_answer_saves_attempt_question, which starts with it: a second index would only cost
    # every save one more index entry.
    attempt_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_attempts.id"))
    question_id: Mapped[str] = mapped_column(sa.String(100))
    seq: Mapped[int]  # the page's counter per question, above the newest it knew (forms take the next)
    value: Mapped[Any] = mapped_column(sa.JSON)
    client_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when the student gave it (server terms)
    server_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    source: Mapped[str] = mapped_column(sa.String(10), default="autosave")  # autosave | form

    __table_args__ = (
        sa.Index("ix_quiz_answer_saves_attempt_question", "attempt_id", "question_id", "seq"),
        sa.CheckConstraint("seq >= 0", name="seq_not_negative"),
    )


class QuizOverride(db.Model):
    """A staff decision for one student: an extra attempt, or the quiz reopened until a time. Rows, never edits."""

    __tablename__ = "quiz_overrides"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_id: Mapped[int] = mapped_column(sa.ForeignKey("quizzes.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(16))
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # for "reopen"
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    granted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (
        sa.CheckConstraint("kind IN ('extra_attempt', 'reopen')", name="kind_known"),
        sa.CheckConstraint("kind != 'reopen' OR until IS NOT NULL", name="reopen_has_until"),
    )


class ItemCount(db.Model):
    """One sum of a quiz version's item analysis (lms.quizzes.analysis.Counts), kept as attempts finish so the
    analysis page reads O(items) rows, not every attempt (lms.quizzes.itemstats). `kind`: "a" attempts with the
    score `value`; "q" attempts shown the question with that score (`total`: how many got it right); "f" attempts
    shown the question (`total`: the sum of the share of its points earned); "p" how often the pick `value` (a
    choice id, "true"/"false", a short answer) was given."""

    __tablename__ = "quiz_item_counts"

    id: Mapped[int] = mapped_column(primary_key=True)
    quiz_version_id: Mapped[int] = mapped_column(sa.ForeignKey("quiz_versions.id"))
    kind: Mapped[str] = mapped_column(sa.String(1))
    question_id: Mapped[str] = mapped_column(sa.String(100), default="")
    value: Mapped[str] = mapped_column(sa.String(1000), default="")
    count: Mapped[int] = mapped_column(default=0)
    total: Mapped[float] = mapped_column(sa.Float, default=0.0)

    __table_args__ = (
        sa.UniqueConstraint(
            "quiz_version_id", "kind", "question_id", "value", name="uq_quiz_item_counts_key"
        ),
    )

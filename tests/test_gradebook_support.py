"""Helpers for the gradebook tests (no tests here): a track with lessons and quizzes, made as rows directly, and
quiz attempts as the quiz feature stores them."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from lms import clock
from lms.accounts.models import Role, User
from lms.assignments.models import Assignment, Submission
from lms.courses.models import Lesson, LessonCompletion, Module, Track
from lms.courses.progress import recount_lessons_done
from lms.extensions import db
from lms.quizzes.models import IN_PROGRESS, SUBMITTED, Attempt, Quiz, QuizVersion
from tests.support import recorded_statements


def make_track(slug: str = "cohort", modules: int = 2, lessons: int = 2) -> Track:
    """A track whose modules m1, m2 ... each hold `lessons` live lessons."""
    track = Track(
        slug=slug, title=f"{slug.title()} Track", summary="A track.", certifies="Things.", validity_months=24,
        completion={}, source_hash="0" * 64,
    )  # fmt: skip
    db.session.add(track)
    db.session.flush()
    for m in range(modules):
        module = Module(
            track_id=track.id, slug=f"m{m + 1}", title=f"Module {m + 1}", position=m, source_hash="x"
        )
        db.session.add(module)
        db.session.flush()
        for n in range(lessons):
            db.session.add(
                Lesson(track_id=track.id, module_id=module.id, slug=f"m{m + 1}-l{n + 1}", title=f"Lesson {n + 1}",
                       position=n, body_html="<p>Read.</p>", source_hash="x")
            )  # fmt: skip
    db.session.commit()
    return track


def lessons_of(track: Track) -> list[Lesson]:
    return list(db.session.scalars(sa.select(Lesson).where(Lesson.track_id == track.id).order_by(Lesson.id)))


def module_of(track: Track, slug: str) -> Module:
    return db.session.execute(
        sa.select(Module).where(Module.track_id == track.id, Module.slug == slug)
    ).scalar_one()


def make_quiz(
    track: Track, slug: str, module: str | None = None, *, grading: str = "highest", title: str | None = None
) -> Quiz:
    """A quiz (a final exam when `module` is None) with one version; its questions do not matter here."""
    quiz = Quiz(
        slug=slug, title=title or slug.replace("-", " ").title(), track_id=track.id,
        module_id=module_of(track, module).id if module else None, kind="module" if module else "final",
        time_limit_seconds=600, attempts_allowed=0, pass_percent=60, grading=grading, draw=1, source_hash="x",
    )  # fmt: skip
    db.session.add(quiz)
    db.session.flush()
    db.session.add(QuizVersion(quiz_id=quiz.id, number=1, content_hash="x", questions=[]))
    db.session.commit()
    return quiz


def add_attempt(
    user: User,
    quiz: Quiz,
    percent: float | None,
    *,
    started: datetime | None = None,
    deadline: datetime | None = None,
) -> Attempt:
    """A submitted attempt scoring `percent`, or (percent None) one still in progress."""
    version_id = db.session.execute(
        sa.select(QuizVersion.id).where(QuizVersion.quiz_id == quiz.id)
    ).scalar_one()
    number = (
        db.session.execute(
            sa.select(sa.func.max(Attempt.number)).where(
                Attempt.user_id == user.id, Attempt.quiz_id == quiz.id
            )
        ).scalar_one()
        or 0
    ) + 1
    started = started or clock.now_utc()
    attempt = Attempt(
        quiz_id=quiz.id, quiz_version_id=version_id, user_id=user.id, number=number, started_at=started,
        time_limit_seconds=600, deadline=deadline or started + timedelta(minutes=10), layout=[],
    )  # fmt: skip
    if percent is None:
        attempt.state = IN_PROGRESS
    else:
        attempt.state = SUBMITTED
        attempt.submitted_at = started + timedelta(minutes=5)
        attempt.submitted_by = "student"
        attempt.score, attempt.max_score, attempt.percent = percent / 10, 10.0, percent
        attempt.passed = percent >= quiz.pass_percent
        attempt.results = {}
    db.session.add(attempt)
    db.session.commit()
    return attempt


def complete(user: User, lessons: list[Lesson]) -> None:
    """Completions written directly (any lesson, locked or not), then the enrolments' kept counts counted again,
    as complete_lesson keeps them."""
    for lesson in lessons:
        db.session.add(LessonCompletion(user_id=user.id, lesson_id=lesson.id))
    db.session.flush()
    recount_lessons_done({lesson.track_id for lesson in lessons})
    db.session.commit()


def quick_user(n: int, full_name: str | None = None, email: str | None = None) -> User:
    """A student row without hashing a password (for cohorts of many)."""
    user = User(
        email=email or f"cohort{n}@example.org",
        full_name=full_name or f"Cohort Student {n:03d}",
        password_hash="not-a-real-hash",
        role=Role.STUDENT.value,
        email_verified_at=clock.now_utc(),  # as every account the fixtures make
    )
    db.session.add(user)
    db.session.flush()
    return user


def quick_submission(user: User, assignment: Assignment, state: str, version: int = 1, late: int = 0) -> None:
    """A handed-in version (or a draft) as a row, without a file on disk."""
    now = clock.now_utc()
    handed_in = state not in ("draft", "replaced")
    db.session.add(
        Submission(
            assignment_id=assignment.id, user_id=user.id, state=state, stored_name=secrets.token_hex(16),
            original_name="handbook.pdf", size_bytes=10, sha256=hashlib.sha256(b"x").hexdigest(),
            detected_type="pdf", uploaded_at=now, submitted_at=now if handed_in else None,
            version=version if handed_in else None, late_seconds=late if handed_in else None,
        )
    )  # fmt: skip


counting_queries = recorded_statements  # the name test_gradebook_queries imports

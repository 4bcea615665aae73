"""The quizzes content kind: check quizzes/*.toml, then load them (idempotent, versioned, never deleting).

A closing time moved later gives running attempts the time the old one had cut (lms.quizzes.closing)."""

from __future__ import annotations

import sqlalchemy as sa

from lms.clock import now_utc
from lms.content import Change, ContentKind, ContentSet
from lms.courses.models import Module, Track
from lms.extensions import db
from lms.quizzes.closing import extend_cut_attempts
from lms.quizzes.itemstats import mark_complete
from lms.quizzes.models import Quiz, QuizVersion
from lms.quizzes.quizset import check_quiz_files
from lms.quizzes.spec import QuizSpec

SETTINGS = (
    "title", "kind", "time_limit_seconds", "attempts_allowed", "delay_between_attempts_seconds", "pass_percent",
    "grading", "shuffle_questions", "shuffle_choices", "draw", "review", "review_after", "on_expiry",
    "grace_seconds", "opens_at", "closes_at",
)  # fmt: skip


def check(content: ContentSet) -> None:
    specs, problems, warnings = check_quiz_files(content.quizzes_dir, content.parsed.get("courses", {}))
    for path, line, message in problems:
        content.problem(path, line, message)
    for path, line, message in warnings:
        content.warning(path, line, message)
    content.parsed["quizzes"] = specs


def sync(content: ContentSet) -> list[Change]:
    specs: dict[str, QuizSpec] = content.parsed.get("quizzes", {})
    tracks = {t.slug: t for t in db.session.execute(sa.select(Track)).scalars()}
    modules = {(m.track_id, m.slug): m for m in db.session.execute(sa.select(Module)).scalars()}
    existing = {q.slug: q for q in db.session.execute(sa.select(Quiz)).scalars()}
    latest = dict(
        db.session.execute(
            sa.select(QuizVersion.quiz_id, QuizVersion.content_hash)
            .join(Quiz, Quiz.id == QuizVersion.quiz_id)
            .where(QuizVersion.number == Quiz.current_version)
        ).all()
    )
    now = now_utc()
    changes = []
    for spec in specs.values():
        track = tracks[spec.track]
        module = modules[(track.id, spec.module)] if spec.module else None
        quiz = existing.get(spec.slug)
        if quiz is not None and quiz.source_hash == spec.source_hash and quiz.retired_at is None:
            changes.append(Change("quiz", spec.slug, "unchanged"))
            continue
        action = "updated"
        old_closes_at = quiz.closes_at if quiz is not None else None
        if quiz is None:
            quiz = Quiz(slug=spec.slug, current_version=0, created_at=now)
            db.session.add(quiz)
            action = "created"
        for name in SETTINGS:
            setattr(quiz, name, getattr(spec, name))
        quiz.blueprint = [stratum.as_dict() for stratum in spec.blueprint] or None
        quiz.bank = spec.bank
        quiz.track_id = track.id
        quiz.module_id = module.id if module else None
        quiz.source_hash = spec.source_hash
        quiz.retired_at = None
        quiz.updated_at = now
        db.session.flush()
        extend_cut_attempts(quiz, old_closes_at, now)
        if latest.get(quiz.id) != spec.content_hash:
            # New questions make a new version; attempts already taken stay with the one they were taken on.
            quiz.current_version += 1
            version = QuizVersion(
                quiz_id=quiz.id,
                number=quiz.current_version,
                content_hash=spec.content_hash,
                questions=spec.questions,
                created_at=now,
            )
            db.session.add(version)
            db.session.flush()
            mark_complete(version.id)  # no attempts yet: its item sums are complete (lms.quizzes.itemstats)
        changes.append(Change("quiz", spec.slug, action))
    for slug, quiz in existing.items():
        if slug not in specs and quiz.retired_at is None:
            quiz.retired_at = now
            changes.append(Change("quiz", slug, "retired"))
    db.session.flush()
    return changes


QUIZZES = ContentKind("quizzes", check, sync)

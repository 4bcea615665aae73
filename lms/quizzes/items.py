"""Item statistics of a quiz version from its submitted attempts, for the staff page and `lms item-report` (CSV):
the same analysis and the same flags (lms.quizzes.analysis) in both."""

from __future__ import annotations

import sqlalchemy as sa

from lms.errors import DomainError
from lms.extensions import db
from lms.quizzes.analysis import Analysis, analyse_counts
from lms.quizzes.itemstats import counts_of, rebuild
from lms.quizzes.models import Quiz, QuizVersion

REPORT_HEADER = (
    "quiz", "version", "question", "type", "prompt", "responses", "facility", "discrimination", "flags", "reasons",
)  # fmt: skip


def versions_of(quiz: Quiz) -> list[QuizVersion]:
    return list(
        db.session.execute(
            sa.select(QuizVersion).where(QuizVersion.quiz_id == quiz.id).order_by(QuizVersion.number)
        ).scalars()
    )


def analyse_version(version: QuizVersion) -> Analysis:
    """The item analysis of one version from its submitted attempts (finalize overdue ones first to count them),
    read from the sums kept as attempts finish (lms.quizzes.itemstats), or a scan where they are not complete."""
    counts, _ = counts_of(version)
    return analyse_counts(version.questions, counts)


def rebuild_item_counts(quiz_slug: str | None = None) -> list[tuple[str, int, int]]:
    """Recompute the kept sums of every version of every quiz (or of the one named) from its submitted attempts,
    one version per transaction: (quiz slug, version number, attempts counted) each."""
    stmt = sa.select(Quiz.slug, QuizVersion).join(QuizVersion, QuizVersion.quiz_id == Quiz.id)
    if quiz_slug is not None:
        stmt = stmt.where(Quiz.slug == quiz_slug)
    targets = [
        (slug, version.id, version.number)
        for slug, version in db.session.execute(stmt.order_by(Quiz.slug, QuizVersion.number))
    ]
    if quiz_slug is not None and not targets:
        raise DomainError(f"There is no quiz {quiz_slug!r}.", field="quiz")
    done = []
    for slug, version_id, number in targets:
        version = db.session.get(QuizVersion, version_id)
        done.append((slug, number, rebuild(version)))
        db.session.commit()
    return done


def item_report_rows(quiz_slug: str | None = None) -> list[tuple[object, ...]]:
    """The header and one row per question of each live quiz's current version (or of the quiz named, retired
    or not): responses, facility, discrimination, the flags' codes and their reasons."""
    stmt = sa.select(Quiz).order_by(Quiz.track_id, Quiz.slug)
    if quiz_slug is not None:
        stmt = stmt.where(Quiz.slug == quiz_slug)
    else:
        stmt = stmt.where(Quiz.retired_at.is_(None))
    quizzes = list(db.session.execute(stmt).scalars())
    if quiz_slug is not None and not quizzes:
        raise DomainError(f"There is no quiz {quiz_slug!r}.", field="quiz")
    rows: list[tuple[object, ...]] = [REPORT_HEADER]
    for quiz in quizzes:
        version = db.session.execute(
            sa.select(QuizVersion).where(
                QuizVersion.quiz_id == quiz.id, QuizVersion.number == quiz.current_version
            )
        ).scalar_one_or_none()
        if version is None:
            continue
        for item in analyse_version(version).questions:
            rows.append(
                (
                    quiz.slug, version.number, item.id, item.type, item.prompt, item.shown,
                    "" if item.facility is None else f"{item.facility:.2f}",
                    "" if item.discrimination is None else f"{item.discrimination:.2f}",
                    " ".join(flag.code for flag in item.flags),
                    " ".join(flag.reason for flag in item.flags),
                )
            )  # fmt: skip
    return rows

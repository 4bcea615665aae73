"""Where a student stands, for pages and other features: whether the attempt that counts passed (certificates), and
each quiz with the student's standing (the track page, the dashboard panel, the gradebook); each exam's blueprint
with its pools (the staff page)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import load_only

from lms.clock import holds_until, next_moment, now_utc
from lms.courses.models import Enrollment, Module, Track
from lms.extensions import db
from lms.quizzes.attempts import attempts_of, counting_attempt
from lms.quizzes.blueprint import POOL_FACTOR, Stratum, active, pool_sizes
from lms.quizzes.deadlines import is_overdue, submit_cutoff
from lms.quizzes.finishing import _score_saved, finalize_overdue
from lms.quizzes.models import IN_PROGRESS, SUBMITTED, Attempt, Quiz, QuizVersion

ASSESSED_KINDS = ("module", "final")  # what earns a certificate; a "recertification" exam renews one


def has_passed_quiz(user_id: int, quiz_slug: str) -> bool:
    """Whether the attempt that counts (per the quiz's grading method) passed; used by certificates.

    It only reads, so other features may call it inside their own transaction (an event handler, say). An attempt
    whose time ran out but that nobody has finalized yet counts with the score its saved answers earn: the result
    never waits for the student to come back, and finalizing it later (which emits progress_changed) agrees."""
    quiz = db.session.execute(sa.select(Quiz).where(Quiz.slug == quiz_slug)).scalar_one_or_none()
    if quiz is None:
        return False
    now = now_utc()
    standing: list[tuple[int, float, bool]] = []
    for attempt in attempts_of(user_id, quiz.id):
        if attempt.state == SUBMITTED:
            standing.append((attempt.number, attempt.percent or 0.0, bool(attempt.passed)))
        elif is_overdue(attempt, now):
            _, score = _score_saved(attempt)
            standing.append((attempt.number, score.percent, score.passed))
    if not standing:
        return False
    if quiz.grading == "last":
        return max(standing)[2]
    return max(standing, key=lambda s: (s[1], -s[0]))[2]


@dataclass(frozen=True)
class QuizStatus:
    quiz: Quiz
    attempts: int
    in_progress_id: int | None
    counting_percent: float | None
    passed: bool

    @property
    def label(self) -> str:
        if self.in_progress_id:
            return "In progress"
        if self.passed:
            return "Passed"
        if self.attempts:
            return "Not passed yet"
        return "Not started"


# What a standing reads of an attempt (counting_attempt and the attempt in progress): a student with many attempts
# would otherwise have every attempt's answers, order and results decoded on each dashboard and track page.
STANDING_COLUMNS = (
    Attempt.id,
    Attempt.quiz_id,
    Attempt.number,
    Attempt.state,
    Attempt.percent,
    Attempt.passed,
    Attempt.deadline,  # with on_expiry and grace_seconds: the cut-off, when a standing changes with the time
    Attempt.on_expiry,
    Attempt.grace_seconds,
)


def quiz_statuses(quizzes: list[Quiz], user_id: int | None) -> list[QuizStatus]:
    """Each quiz with this user's standing, in two queries whatever the number of quizzes."""
    by_quiz: dict[int, list[Attempt]] = {q.id: [] for q in quizzes}
    if user_id is not None and quizzes:
        finalize_overdue(user_id=user_id)
        rows = db.session.execute(
            sa.select(Attempt)
            .options(load_only(*STANDING_COLUMNS))  # not the answers, order and results (JSON) of each
            .where(Attempt.user_id == user_id, Attempt.quiz_id.in_(list(by_quiz)))
            .order_by(Attempt.number)
        ).scalars()
        for attempt in rows:
            by_quiz[attempt.quiz_id].append(attempt)
    # A standing changes with the time alone when an attempt in progress passes its cut-off (finalized then).
    now = now_utc()
    cutoffs = (submit_cutoff(a) for tried in by_quiz.values() for a in tried if a.state == IN_PROGRESS)
    holds_until(next_moment(cutoffs, now))
    statuses = []
    for quiz in quizzes:
        attempts = by_quiz[quiz.id]
        counting = counting_attempt(quiz.grading, attempts)
        statuses.append(
            QuizStatus(
                quiz=quiz,
                attempts=len(attempts),
                in_progress_id=next((a.id for a in attempts if a.state == IN_PROGRESS), None),
                counting_percent=counting.percent if counting else None,
                passed=bool(counting and counting.passed),
            )
        )
    return statuses


def quizzes_for_track(track_id: int, user_id: int | None = None) -> list[QuizStatus]:
    """The track's quizzes (module quizzes by module position, then the final exam), with the user's standing.
    Recertification exams are not among them: they renew a certificate, and never count towards earning one."""
    quizzes = list(
        db.session.execute(
            sa.select(Quiz)
            .outerjoin(Module, Module.id == Quiz.module_id)
            .where(Quiz.track_id == track_id, Quiz.retired_at.is_(None), Quiz.kind.in_(ASSESSED_KINDS))
            .order_by(Quiz.kind.desc(), Module.position, Quiz.slug)
        ).scalars()
    )
    return quiz_statuses(quizzes, user_id)


def assessed_quizzes(track_id: int) -> list[Quiz]:
    """The quizzes a rule of `quizzes = "all"` asks for: the track's live module quizzes (by module position), then
    its final exam; never a recertification exam (that one is for renewing)."""
    return list(
        db.session.execute(
            sa.select(Quiz)
            .outerjoin(Module, Module.id == Quiz.module_id)
            .where(Quiz.track_id == track_id, Quiz.retired_at.is_(None), Quiz.kind.in_(ASSESSED_KINDS))
            .order_by(Quiz.kind.desc(), Module.position, Quiz.slug)
        ).scalars()
    )


def assessed_quiz_slugs(track_id: int) -> list[str]:
    return [quiz.slug for quiz in assessed_quizzes(track_id)]


def recertification_exam(track_id: int) -> Quiz | None:
    """The track's live recertification exam (a quiz of kind "recertification"), if it has one."""
    return db.session.execute(
        sa.select(Quiz)
        .where(Quiz.track_id == track_id, Quiz.kind == "recertification", Quiz.retired_at.is_(None))
        .order_by(Quiz.slug)
        .limit(1)
    ).scalar_one_or_none()


def passed_since(user_id: int, quiz_id: int, since: datetime) -> datetime | None:
    """When the student's first passing attempt finished at or after `since` (None: none did). It only reads: an
    attempt whose time ran out but that nobody has finalized yet counts at its deadline with its saved answers."""
    now = now_utc()
    finished: list[datetime] = []
    for attempt in attempts_of(user_id, quiz_id):
        if attempt.state == SUBMITTED and attempt.passed and attempt.submitted_at is not None:
            finished.append(attempt.submitted_at)
        elif attempt.state == IN_PROGRESS and is_overdue(attempt, now) and _score_saved(attempt)[1].passed:
            finished.append(attempt.deadline)
    return min((at for at in finished if at >= since), default=None)


def module_quizzes_to_pass(user_id: int, track_id: int) -> list[Quiz]:
    """The track's live module quizzes this student has not passed yet (by module position); it only reads."""
    return [
        quiz
        for quiz in assessed_quizzes(track_id)
        if quiz.kind == "module" and not has_passed_quiz(user_id, quiz.slug)
    ]


def quizzes_for_student(user_id: int) -> list[QuizStatus]:
    """Quizzes of every track the student is enrolled in."""
    quizzes = list(
        db.session.execute(
            sa.select(Quiz)
            .join(Enrollment, sa.and_(Enrollment.track_id == Quiz.track_id, Enrollment.user_id == user_id))
            .join(Track, Track.id == Quiz.track_id)
            .outerjoin(Module, Module.id == Quiz.module_id)
            .where(Enrollment.left_at.is_(None), Quiz.retired_at.is_(None), Quiz.kind.in_(ASSESSED_KINDS))
            .order_by(Track.position, Track.id, Quiz.kind.desc(), Module.position, Quiz.slug)
        ).scalars()
    )
    return quiz_statuses(quizzes, user_id)


@dataclass(frozen=True)
class BlueprintRow:
    label: str  # the module's title (and the type or difficulty the stratum asks for)
    count: int  # items each attempt draws from it
    weight: float  # its share of the draw, in percent
    pool: int  # active items it draws from
    retired: int  # items of its domain retired from new draws

    @property
    def fresh_enough(self) -> bool:
        return self.pool >= POOL_FACTOR * self.count


@dataclass(frozen=True)
class ExamBlueprint:
    quiz: Quiz
    track_title: str
    version: int
    rows: list[BlueprintRow]  # empty: a plain draw from the whole pool
    pool: int  # active items
    retired: int


def exam_blueprints() -> list[ExamBlueprint]:
    """Each live quiz's blueprint as staff read it: per stratum the draw, its weight and its pool (current version)."""
    rows = db.session.execute(
        sa.select(Quiz, QuizVersion.questions, Track.title, Module.slug)
        .join(
            QuizVersion, sa.and_(QuizVersion.quiz_id == Quiz.id, QuizVersion.number == Quiz.current_version)
        )
        .join(Track, Track.id == Quiz.track_id)
        .outerjoin(Module, Module.id == Quiz.module_id)
        .where(Quiz.retired_at.is_(None))
        .order_by(Track.position, Track.id, Quiz.kind.desc(), Quiz.slug)
    ).all()
    titles = {
        (track_id, slug): title
        for track_id, slug, title in db.session.execute(sa.select(Module.track_id, Module.slug, Module.title))
    }
    exams = []
    for quiz, questions, track_title, module_slug in rows:
        strata = [Stratum.from_dict(s) for s in quiz.blueprint or []]
        sizes = pool_sizes(strata, questions, module_slug)
        retired = [q for q in questions if q.get("retired")]
        blueprint_rows = []
        for stratum in strata:
            name = titles.get((quiz.track_id, stratum.module or ""), stratum.module or "Any module")
            extra = ", ".join(v for v in (stratum.type, stratum.difficulty) if v)
            in_domain = [q for q in retired if stratum.matches({**q, "retired": False}, module_slug)]
            blueprint_rows.append(
                BlueprintRow(
                    label=f"{name} ({extra})" if extra else name,
                    count=stratum.count,
                    weight=100 * stratum.count / quiz.draw,
                    pool=sizes[stratum],
                    retired=len(in_domain),
                )
            )
        exams.append(
            ExamBlueprint(
                quiz, track_title, quiz.current_version, blueprint_rows, len(active(questions)), len(retired)
            )
        )
    return exams

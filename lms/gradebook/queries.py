"""Set-based reads behind the gradebook: each fetches one kind of fact for a whole cohort in one query.

Nothing here writes: an overdue quiz attempt that nobody finalized yet is read as it stands.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager

from lms.accounts.models import User
from lms.assignments.models import Assignment, Submission
from lms.certificates.models import Certificate, CertificateState, CertificateVersion
from lms.courses.models import Cohort, Enrollment, Lesson, Module, Track
from lms.extensions import db
from lms.quizzes.models import Attempt, Quiz

# The students a fact is wanted for: a list of ids (one page) or a SELECT of ids (the whole CSV).
UserIds = Sequence[int] | sa.Select[Any]

SORTS = ("name", "progress", "enrolled")
ORDERS = ("asc", "desc")

# What the standings need; never the answers, the question layout or the file details.
ATTEMPT_COLUMNS = (
    Attempt.id, Attempt.quiz_id, Attempt.user_id, Attempt.number, Attempt.state, Attempt.percent, Attempt.passed,
    Attempt.deadline, Attempt.on_expiry, Attempt.grace_seconds,
)  # fmt: skip
SUBMISSION_COLUMNS = (
    Submission.id, Submission.user_id, Submission.state, Submission.version, Submission.submitted_at,
    Submission.late_seconds, Submission.uploaded_at,
)  # fmt: skip
# What a line of the CSV shows of a student and their enrolment (roster_statement(plain=True)), and "done".
ROSTER_COLUMNS = (
    User.id.label("user_id"), User.full_name, User.email, Enrollment.enrolled_at, Enrollment.left_at,
    Cohort.name.label("cohort"),
)  # fmt: skip


def tracks_with_counts() -> list[tuple[Track, int]]:
    """Every track with its number of active students (one query)."""
    active = (
        sa.select(Enrollment.track_id, sa.func.count(Enrollment.id).label("students"))
        .where(Enrollment.left_at.is_(None))
        .group_by(Enrollment.track_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Track, sa.func.coalesce(active.c.students, 0))
        .outerjoin(active, active.c.track_id == Track.id)
        .order_by(Track.retired_at.is_not(None), Track.position, Track.title, Track.id)
    ).all()
    return [(track, int(count)) for track, count in rows]


def find_track(slug: str) -> Track | None:
    return db.session.execute(sa.select(Track).where(Track.slug == slug)).scalar_one_or_none()


def live_lesson_ids(track_id: int) -> sa.Select[Any]:
    """The lessons that count towards progress: neither the lesson nor its module is retired."""
    return (
        sa.select(Lesson.id)
        .join(Module, Module.id == Lesson.module_id)
        .where(Lesson.track_id == track_id, Lesson.retired_at.is_(None), Module.retired_at.is_(None))
    )


def live_lesson_count(track_id: int) -> int:
    return db.session.execute(
        sa.select(sa.func.count()).select_from(live_lesson_ids(track_id).subquery())
    ).scalar_one()


def _escape_like(text: str) -> str:
    return text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _roster_where(track_id: int, search: str, include_left: bool) -> list[sa.ColumnElement[bool]]:
    """The roster's filters, on enrolments and their students (joined as User)."""
    where: list[sa.ColumnElement[bool]] = [Enrollment.track_id == track_id]
    if not include_left:
        where.append(Enrollment.left_at.is_(None))
    search = search.strip()
    if search:
        pattern = f"%{_escape_like(search)}%"
        where.append(
            sa.or_(
                sa.func.lower(User.full_name).like(pattern, escape="\\"),
                User.email.like(pattern, escape="\\"),
            )
        )
    return where


def _roster_order(sort: str, order: str, done_column: Any) -> list[Any]:
    name = sa.func.lower(User.full_name)
    descending = order == "desc"
    if sort == "progress":
        return [done_column.desc() if descending else done_column.asc(), name, User.id]
    if sort == "enrolled":
        return [Enrollment.enrolled_at.desc() if descending else Enrollment.enrolled_at.asc(), name, User.id]
    return [name.desc() if descending else name.asc(), User.id.desc() if descending else User.id.asc()]


def roster_statement(
    track_id: int,
    *,
    search: str = "",
    include_left: bool = False,
    sort: str = "name",
    order: str = "asc",
    only: sa.Select[Any] | None = None,
    plain: bool = False,
) -> sa.Select[Any]:
    """Enrolment (with its cohort loaded), student and lessons completed, filtered and sorted in the database.

    `only`: the enrolment ids of one page (roster_page_ids); without it, every row (the CSV). Lessons completed
    are the enrolment's kept count (Enrollment.lessons_done), never a count of completions.
    `plain`: plain rows of ROSTER_COLUMNS instead of the two entities (what the streamed CSV reads)."""
    stmt = (
        sa.select(*ROSTER_COLUMNS)
        if plain
        else sa.select(Enrollment, User).options(contains_eager(Enrollment.cohort))
    )
    stmt = (
        stmt.select_from(Enrollment)
        .join(User, User.id == Enrollment.user_id)
        .outerjoin(Cohort, Cohort.id == Enrollment.cohort_id)
        .where(*_roster_where(track_id, search, include_left))
    )
    if only is not None:
        stmt = stmt.where(Enrollment.id.in_(only))
    done = Enrollment.lessons_done
    return stmt.add_columns(done.label("done")).order_by(*_roster_order(sort, order, done))


def roster_page_ids(
    track_id: int, *, search: str, include_left: bool, sort: str, order: str, limit: int, offset: int
) -> sa.Select[Any]:
    """The enrolment ids of one page of the roster, in its order: enrolments and students only (an index on the
    sort key walks them; by progress, the kept count Enrollment.lessons_done)."""
    stmt = (
        sa.select(Enrollment.id)
        .join(User, User.id == Enrollment.user_id)
        .where(*_roster_where(track_id, search, include_left))
    )
    return stmt.order_by(*_roster_order(sort, order, Enrollment.lessons_done)).limit(limit).offset(offset)


def count_roster(track_id: int, *, search: str, include_left: bool) -> int:
    """How many students the roster's filters match (the students joined only when searching)."""
    stmt = sa.select(sa.func.count(Enrollment.id))
    if search.strip():
        stmt = stmt.join(User, User.id == Enrollment.user_id)
    return db.session.execute(stmt.where(*_roster_where(track_id, search, include_left))).scalar_one()


def track_quizzes(track_id: int) -> list[Quiz]:
    """The track's live quizzes: module quizzes in module order, then the final exam (as the track page lists),
    then a recertification exam."""
    kind_order = sa.case({"module": 0, "final": 1}, value=Quiz.kind, else_=2)
    return list(
        db.session.execute(
            sa.select(Quiz)
            .outerjoin(Module, Module.id == Quiz.module_id)
            .where(Quiz.track_id == track_id, Quiz.retired_at.is_(None), Quiz.kind != "recertification")
            .order_by(kind_order, Module.position, Quiz.slug)
        ).scalars()
    )


def _attempts_of(users: Any) -> sa.Select[Any]:
    """attempts_by_student's statement, for `users` (a bound list of ids or a SELECT of them)."""
    return (
        sa.select(*ATTEMPT_COLUMNS)
        .where(Attempt.quiz_id.in_(sa.bindparam("quiz_ids", expanding=True)), Attempt.user_id.in_(users))
        .order_by(Attempt.user_id, Attempt.quiz_id, Attempt.number)
    )


@cache
def _for_listed_ids(build: Callable[[Any], sa.Select[Any]]) -> sa.Select[Any]:
    """build's statement for a list of ids, made once with the ids bound at execution. A statement built afresh
    for each chunk of a CSV would leave reference cycles (its bound parameters) holding each chunk's ids until the
    garbage collector's older generations run, so the export's memory would climb with its length."""
    return build(sa.bindparam("user_ids", expanding=True))


def _rows_for(
    build: Callable[[Any], sa.Select[Any]], user_ids: UserIds, **params: Any
) -> sa.CursorResult[Any]:
    """The rows of build's statement for these students (a list of ids, or a SELECT of ids)."""
    if isinstance(user_ids, sa.Select):
        return db.session.connection().execute(build(user_ids), params)
    return db.session.connection().execute(_for_listed_ids(build), {"user_ids": list(user_ids), **params})


def attempts_by_student(quiz_ids: list[int], user_ids: UserIds) -> dict[tuple[int, int], list[sa.Row[Any]]]:
    """Every attempt of these students at these quizzes, by (user, quiz), in attempt order (one query): plain
    rows of ATTEMPT_COLUMNS, which the quiz rules (counting_attempt, is_overdue) read like attempts."""
    found: dict[tuple[int, int], list[sa.Row[Any]]] = defaultdict(list)
    if not quiz_ids:
        return found
    for attempt in _rows_for(_attempts_of, user_ids, quiz_ids=quiz_ids).all():
        found[(attempt.user_id, attempt.quiz_id)].append(attempt)
    return found


def track_assignment(track: Track) -> Assignment | None:
    """The track's assessed assignment (the handbook): the one its completion rule names, else the first live."""
    assignments = list(
        db.session.execute(
            sa.select(Assignment)
            .where(Assignment.track_id == track.id, Assignment.retired_at.is_(None))
            .order_by(Assignment.id)
        ).scalars()
    )
    named = (track.completion or {}).get("assignment")
    return next((a for a in assignments if a.slug == named), assignments[0] if assignments else None)


def _uploads_of(users: Any) -> sa.Select[Any]:
    """submissions_by_student's statement, for `users`."""
    return (
        sa.select(*SUBMISSION_COLUMNS)
        .where(Submission.assignment_id == sa.bindparam("assignment_id"), Submission.user_id.in_(users))
        .order_by(Submission.user_id, Submission.uploaded_at, Submission.id)
    )


def submissions_by_student(assignment_id: int, user_ids: UserIds) -> dict[int, list[sa.Row[Any]]]:
    """Every upload of these students for the assignment, oldest first (one query): plain rows of
    SUBMISSION_COLUMNS, never the file details."""
    found: dict[int, list[sa.Row[Any]]] = defaultdict(list)
    for submission in _rows_for(_uploads_of, user_ids, assignment_id=assignment_id).all():
        found[submission.user_id].append(submission)
    return found


def _certificates_of(users: Any) -> sa.Select[Any]:
    """certificates_by_student's statement, for `users`."""
    return (
        sa.select(Certificate.user_id, Certificate.state, Certificate.code, CertificateVersion.expires_at)
        .outerjoin(
            CertificateVersion,
            sa.and_(
                CertificateVersion.certificate_id == Certificate.id,
                CertificateVersion.number == Certificate.version_number,
            ),
        )
        .where(Certificate.track_id == sa.bindparam("track_id"), Certificate.user_id.in_(users))
        .order_by(Certificate.created_at, Certificate.id)
    )


def certificates_by_student(track_id: int, user_ids: UserIds) -> dict[int, sa.Row[Any]]:
    """Per student, the certificate to show for the track: the active one, else the most recent (one query).
    A plain row: user_id, state, code and its current version's expires_at (what its status at a moment needs)."""
    found: dict[int, sa.Row[Any]] = {}
    for certificate in _rows_for(_certificates_of, user_ids, track_id=track_id).all():
        shown = found.get(certificate.user_id)
        if shown is None or shown.state != CertificateState.ACTIVE.value:
            found[certificate.user_id] = certificate
    return found


def enrolled_ids(track_id: int) -> sa.Select[Any]:
    """Everyone ever enrolled in the track (a superset of any filtered roster), as a SELECT of ids."""
    return sa.select(Enrollment.user_id).where(Enrollment.track_id == track_id)

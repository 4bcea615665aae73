"""Reads for the pages: the staff grading queue and its filters, where a version stands in it (previous, next,
"4 of 17"), a version's grading history, the dashboards."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, defer, joinedload, selectinload

from lms.accounts.models import User
from lms.assignments.anonymity import name_hidden_clause
from lms.assignments.deadlines import enrollment_deadlines
from lms.assignments.models import (
    HANDED_IN,
    PENDING,
    Assignment,
    Extension,
    GradeChange,
    RegradeRequest,
    RegradeState,
    Submission,
    SubmissionState,
)
from lms.assignments.regrades import regrades_for
from lms.courses.models import Cohort, Enrollment, Track
from lms.extensions import db

QUEUE_FILTERS = {
    "todo": "Needs attention",
    "submitted": "Submitted",
    "in_grading": "In grading",
    "graded": "Graded, not released",
    "returned": "Returned for revision",
    "released": "Released (passed)",
    "regrade": "Regrade requested",
    "all": "All handed in",
}


@dataclass(frozen=True)
class QueueFilters:
    """The queue's filters, as its page and the grading desk's previous / next links carry them."""

    track: str = ""
    state: str = "todo"
    late: str = ""

    @classmethod
    def of(cls, args: Any) -> QueueFilters:
        """From a request's query string; anything unknown is the default."""
        state = args.get("state", "todo")
        late = args.get("late", "")
        return cls(
            track=args.get("track", "") or "",
            state=state if state in QUEUE_FILTERS else "todo",
            late=late if late in {"yes", "no"} else "",
        )

    def as_args(self) -> dict[str, str]:
        """The filters for a link's query string (empty ones left out)."""
        return {k: v for k, v in (("track", self.track), ("state", self.state), ("late", self.late)) if v}


_LISTED = [s.value for s in HANDED_IN if s is not SubmissionState.SUPERSEDED]


def _open_regrades() -> sa.Select[Any]:
    """The submissions with an open regrade request (a handful: indexed by state)."""
    return sa.select(RegradeRequest.submission_id).where(RegradeRequest.state == RegradeState.OPEN.value)


_STATE_FILTERS = frozenset(QUEUE_FILTERS) | {s.value for s in SubmissionState}


def _queue_filters(track_slug: str, state: str, late: str) -> list[sa.ColumnElement[bool]]:
    """The queue's filters on submissions alone (no join), each one an index can serve."""
    where: list[sa.ColumnElement[bool]] = []
    if track_slug:
        where.append(
            Submission.assignment_id.in_(
                sa.select(Assignment.id)
                .join(Track, Track.id == Assignment.track_id)
                .where(Track.slug == track_slug)
            )
        )
    # Anything unknown reads as "all" and as late or not: the cache below holds at most a few dozen entries.
    return where + list(
        _state_filters(state if state in _STATE_FILTERS else "all", late if late in {"yes", "no"} else "")
    )


@cache  # expressions of code and of a few known words alone (SQLAlchemy's are immutable): built once
def _state_filters(state: str, late: str) -> tuple[sa.ColumnElement[bool], ...]:
    """The queue's filters by state and lateness (_queue_filters without the track)."""
    listed = Submission.state.in_(_LISTED)
    where: list[sa.ColumnElement[bool]] = []
    if state == "todo":
        # Pending versions (all of them listed), and listed ones with an open regrade (a handful). On the row
        # itself, not as its id in a union of both: the page walks the queue's order and stops at its last row.
        where.append(
            sa.or_(
                Submission.state.in_([s.value for s in PENDING]),
                sa.and_(Submission.id.in_(_open_regrades()), listed),
            )
        )
    elif state == "regrade":
        where += [Submission.id.in_(_open_regrades()), listed]
    elif state in {s.value for s in SubmissionState}:
        where += [Submission.state == state, listed]
    else:  # "all"
        where.append(listed)
    if late == "yes":
        where.append(Submission.late_seconds > 0)
    elif late == "no":
        where.append(sa.func.coalesce(Submission.late_seconds, 0) == 0)
    return tuple(where)


def _queue_count(track_slug: str, state: str, late: str) -> sa.Select[tuple[int]]:
    """How many versions the filters match. "Needs attention" is counted as its two disjoint parts, each on an
    index (pending versions; others with an open regrade, a handful), never by checking every listed version."""
    if state != "todo":
        return sa.select(sa.func.count(Submission.id)).where(*_queue_filters(track_slug, state, late))
    listed = _queue_filters(track_slug, "all", late)  # the track and lateness filters, and listed
    pending_values = [s.value for s in PENDING]
    pending = sa.select(Submission.id).where(*listed, Submission.state.in_(pending_values))
    regraded = sa.select(Submission.id).where(
        *listed, Submission.id.in_(_open_regrades()), Submission.state.not_in(pending_values)
    )
    return sa.select(sa.func.count()).select_from(sa.union_all(pending, regraded).subquery())


QUEUE_ORDER = (Submission.submitted_at.asc(), Submission.id.asc())


def queue_statement(track_slug: str = "", state: str = "todo", late: str = "") -> sa.Select[Any]:
    """Handed-in versions for the grading queue, oldest first, with everything the list shows in one query."""
    return _queue_select().where(*_queue_filters(track_slug, state, late))


@cache  # a statement of code alone (SQLAlchemy's are immutable; .where() makes a new one): built once
def _queue_select() -> sa.Select[Any]:
    """queue_statement without its filters. The assignment's brief and the track's texts are not shown in the
    list: left out of its rows (they would come again with every row of the page)."""
    open_regrade = (
        sa.select(RegradeRequest.id)
        .where(RegradeRequest.submission_id == Submission.id, RegradeRequest.state == RegradeState.OPEN.value)
        .exists()
    )
    student = aliased(User)
    return (
        sa.select(
            Submission,
            Assignment,
            Track,
            student,
            open_regrade.label("regrade_open"),
            name_hidden_clause().label("name_hidden"),
        )
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .join(Track, Track.id == Assignment.track_id)
        .join(student, student.id == Submission.user_id)
        .options(
            defer(Assignment.brief_html),
            defer(Assignment.formats),
            defer(Track.summary),
            defer(Track.certifies),
            defer(Track.completion),
        )
        .order_by(*QUEUE_ORDER)
    )


def queue_page(
    track_slug: str, state: str, late: str, page: int, page_size: int
) -> tuple[list[sa.Row[Any]], int]:
    """One page of the grading queue (`page` counts from 1) and how many versions the filters match in all.

    The page's ids are found first, on submissions alone in the queue's order (an index on (submitted_at, id)
    walks it), and only those rows are joined with what the list shows: a page costs the same with 20 000
    versions in the queue as with 20."""
    where = _queue_filters(track_slug, state, late)
    total = db.session.execute(_queue_count(track_slug, state, late)).scalar_one()
    page_ids = (
        sa.select(Submission.id)
        .where(*where)
        .order_by(*QUEUE_ORDER)
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    stmt = _queue_select().where(Submission.id.in_(page_ids.scalar_subquery()))  # (the ids are filtered)
    rows = db.session.execute(stmt).all()
    return list(rows), total


@dataclass(frozen=True)
class QueuePosition:
    """Where a version stands in the queue's current filter: its place (None when the filter leaves it out),
    how many the filter matches, and its neighbours in the queue's order."""

    index: int | None
    total: int
    previous_id: int | None
    next_id: int | None


def queue_position(filters: QueueFilters, submission: Submission) -> QueuePosition:
    """The grading desk's "4 of 17" and its previous / next links (one query). The neighbours are found by the
    queue's order (handed in, then number), so "next" still works once saving moved this version out of the
    filter."""
    listed = (
        queue_statement(filters.track, filters.state, filters.late)
        .with_only_columns(Submission.id, Submission.submitted_at)
        .order_by(None)
        .subquery()
    )
    at, sid = submission.submitted_at, submission.id
    after = sa.or_(listed.c.submitted_at > at, sa.and_(listed.c.submitted_at == at, listed.c.id > sid))
    before = sa.or_(listed.c.submitted_at < at, sa.and_(listed.c.submitted_at == at, listed.c.id < sid))

    def first(where: Any, *order: Any) -> Any:
        return sa.select(listed.c.id).where(where).order_by(*order).limit(1).scalar_subquery()

    row = db.session.execute(
        sa.select(
            sa.select(sa.func.count()).select_from(listed).scalar_subquery(),
            sa.select(sa.func.count()).select_from(listed).where(sa.not_(after)).scalar_subquery(),
            sa.select(sa.func.count()).select_from(listed).where(listed.c.id == sid).scalar_subquery(),
            first(before, listed.c.submitted_at.desc(), listed.c.id.desc()),
            first(after, listed.c.submitted_at.asc(), listed.c.id.asc()),
        )
    ).one()
    total, upto, present, previous_id, next_id = row
    return QueuePosition(upto if present else None, total, previous_id, next_id)


def queue_tracks() -> list[Track]:
    """The tracks that have an assignment (the queue's track filter)."""
    return list(db.session.execute(_QUEUE_TRACKS).scalars())


_QUEUE_TRACKS = (
    sa.select(Track).where(Track.id.in_(sa.select(Assignment.track_id))).order_by(Track.position, Track.title)
)


def assignments_for_track(track_id: int) -> list[Assignment]:
    """The live assignments of a track, with their criteria loaded (for the track page)."""
    return list(
        db.session.execute(
            sa.select(Assignment)
            .options(sa.orm.selectinload(Assignment.criteria))
            .where(Assignment.track_id == track_id, Assignment.retired_at.is_(None))
            .order_by(Assignment.id)
        ).scalars()
    )


def active_assignments() -> list[Assignment]:
    """Every live assignment with its track (the queue's downloads and extensions links), in one statement."""
    return list(db.session.execute(_ACTIVE_ASSIGNMENTS).scalars())


_ACTIVE_ASSIGNMENTS = (
    sa.select(Assignment)
    .where(Assignment.retired_at.is_(None))
    .options(joinedload(Assignment.track), defer(Assignment.brief_html))  # (the brief is not shown)
    .order_by(Assignment.track_id, Assignment.id)
)


def grading_history(submission: Submission) -> dict[str, Any]:
    """What the grading page shows besides the submission: the other versions, the changes, the regrades."""
    versions = list(
        db.session.execute(
            sa.select(Submission)
            .where(
                Submission.user_id == submission.user_id,
                Submission.assignment_id == submission.assignment_id,
                Submission.state.in_([s.value for s in HANDED_IN]),
            )
            .order_by(Submission.version.desc())
        ).scalars()
    )
    changes = list(
        db.session.execute(
            sa.select(GradeChange)
            .where(GradeChange.submission_id == submission.id)
            .options(selectinload(GradeChange.changed_by))
            .order_by(GradeChange.changed_at.desc(), GradeChange.id.desc())
        ).scalars()
    )
    return {"versions": versions, "changes": changes, "regrades": regrades_for(submission.id)}


def student_overview(user: User) -> list[dict[str, Any]]:
    """For the dashboard: each assignment of the student's tracks, its due date and where they stand."""
    rows = db.session.execute(
        sa.select(Assignment, Enrollment, Track, Cohort)
        .join(Enrollment, Enrollment.track_id == Assignment.track_id)
        .join(Track, Track.id == Assignment.track_id)
        .outerjoin(Cohort, Cohort.id == Enrollment.cohort_id)
        .where(Enrollment.user_id == user.id, Enrollment.left_at.is_(None), Assignment.retired_at.is_(None))
        .order_by(Track.position, Assignment.id)
    ).all()
    if not rows:
        return []
    ids = [assignment.id for assignment, _, _, _ in rows]
    uploads: dict[int, list[Submission]] = {}
    for submission in db.session.execute(
        sa.select(Submission)
        .where(Submission.user_id == user.id, Submission.assignment_id.in_(ids))
        .order_by(Submission.uploaded_at.desc(), Submission.id.desc())
    ).scalars():
        uploads.setdefault(submission.assignment_id, []).append(submission)
    extensions: dict[int, Extension] = {}
    for extension in db.session.execute(
        sa.select(Extension)
        .where(Extension.user_id == user.id, Extension.assignment_id.in_(ids))
        .order_by(Extension.granted_at.asc(), Extension.id.asc())
    ).scalars():
        extensions[extension.assignment_id] = extension  # the latest wins
    overview = []
    for assignment, enrollment, track, cohort in rows:
        history = uploads.get(assignment.id, [])
        handed_in = [s for s in history if s.state_enum in HANDED_IN]
        latest = max(handed_in, key=lambda s: s.version or 0) if handed_in else None
        overview.append(
            {
                "assignment": assignment,
                "track": track,
                "deadlines": enrollment_deadlines(
                    assignment, enrollment, extensions.get(assignment.id), cohort
                ),
                "latest": latest,
                "has_draft": any(s.state_enum is SubmissionState.DRAFT for s in history),
            }
        )
    return overview


def waiting_count() -> int:
    """How many handed-in versions of live assignments wait for a grade (the staff dashboard)."""
    return db.session.execute(
        sa.select(sa.func.count())
        .select_from(Submission)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(Submission.state.in_([s.value for s in PENDING]), Assignment.retired_at.is_(None))
    ).scalar_one()

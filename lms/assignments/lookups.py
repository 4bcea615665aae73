"""Finding the rows the pages and operations work on; a missing (or hidden) one is NotFound, a 404 on a page.
Operations that change a submission, its grade or a regrade read them here under a row lock."""

from __future__ import annotations

from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.assignments.models import (
    Assignment,
    Criterion,
    Grade,
    RegradeRequest,
    Submission,
    SubmissionState,
)
from lms.courses.models import Track
from lms.database import begin_write_on_sqlite
from lms.errors import NotFound
from lms.extensions import db

T = TypeVar("T")


def require_found(row: T | None, what: str, *, visible: bool = True) -> T:
    """`row`, unless it is missing, or hidden from the person asking (`visible` false): then NotFound ("There is
    no such <what>."), which a page answers with 404. Someone who may not see a row learns no more than that."""
    if row is None or not visible:
        raise NotFound(f"There is no such {what}.")
    return row


def find_assignment(track_slug: str, slug: str) -> Assignment:
    """The live assignment `slug` of the track `track_slug`, with its rubric loaded."""
    assignment = db.session.execute(
        sa.select(Assignment)
        .join(Track, Track.id == Assignment.track_id)
        .where(Track.slug == track_slug, Assignment.slug == slug, Assignment.retired_at.is_(None))
        .options(selectinload(Assignment.criteria).selectinload(Criterion.levels))
    ).scalar_one_or_none()
    return require_found(assignment, "assignment")


def get_assignment(assignment_id: int) -> Assignment:
    """The assignment by id, retired or not (staff pages)."""
    return require_found(db.session.get(Assignment, assignment_id), "assignment")


def get_submission_for(user: User, submission_id: int) -> Submission:
    """The submission, if `user` may see it: its student, or staff. Anyone else gets NotFound (a 404)."""
    submission = db.session.execute(
        sa.select(Submission)
        .where(Submission.id == submission_id)
        .options(
            selectinload(Submission.assignment)
            .selectinload(Assignment.criteria)
            .selectinload(Criterion.levels),
            selectinload(Submission.grade).selectinload(Grade.scores),
            selectinload(Submission.user),
        )
    ).scalar_one_or_none()
    visible = submission is None or submission.user_id == user.id or user.is_staff
    return require_found(submission, "submission", visible=visible)


def get_regrade_request(request_id: int) -> RegradeRequest:
    """The regrade request by id (staff answer it)."""
    return require_found(db.session.get(RegradeRequest, request_id), "regrade request")


def submissions_of(user_id: int, assignment_id: int) -> list[Submission]:
    """Every upload of this student for this assignment, newest first."""
    return list(
        db.session.execute(
            sa.select(Submission)
            .where(Submission.user_id == user_id, Submission.assignment_id == assignment_id)
            .options(selectinload(Submission.grade))
            .order_by(Submission.uploaded_at.desc(), Submission.id.desc())
        ).scalars()
    )


def lock_submission(submission_id: int) -> Submission:
    """The submission read again with its grade, its row locked until the transaction ends (FOR UPDATE on
    PostgreSQL, the database's write lock on SQLite). Every grading, release, regrade and feedback change takes
    this lock first, so two people acting on one submission at once go one after the other, and the second
    decides on what the first committed."""
    begin_write_on_sqlite(db.session)
    submission = db.session.execute(
        sa.select(Submission)
        .where(Submission.id == submission_id)
        .with_for_update(of=Submission)
        .options(selectinload(Submission.grade).selectinload(Grade.scores))
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    return require_found(submission, "submission")


def lock_regrade_request(request_id: int) -> RegradeRequest:
    """The regrade request read again, its row locked (take its submission's lock first: lock_submission)."""
    request = db.session.execute(
        sa.select(RegradeRequest)
        .where(RegradeRequest.id == request_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    return require_found(request, "regrade request")


def lock_submissions_of(user_id: int, assignment_id: int) -> list[Submission]:
    """submissions_of(), every row locked (as lock_submission): an upload or a submit decides on what is there
    once any other upload or submit of the same student has committed."""
    begin_write_on_sqlite(db.session)
    return list(
        db.session.execute(
            sa.select(Submission)
            .where(Submission.user_id == user_id, Submission.assignment_id == assignment_id)
            .with_for_update(of=Submission)
            .options(selectinload(Submission.grade))
            .order_by(Submission.uploaded_at.desc(), Submission.id.desc())
            .execution_options(populate_existing=True)
        ).scalars()
    )


def has_passed_assignment(user_id: int, track_id: int) -> bool:
    """True when a grade with the decision "pass" has been released to this student for this track's assignment."""
    return db.session.execute(
        sa.select(
            sa.exists().where(
                Submission.user_id == user_id,
                Submission.state == SubmissionState.RELEASED.value,
                Submission.assignment_id == Assignment.id,
                Assignment.track_id == track_id,
                Assignment.retired_at.is_(None),
            )
        )
    ).scalar_one()

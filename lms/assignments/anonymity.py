"""Blind marking: staff see a submission's number, never its student, until the student's grade is released.

The name stays hidden on every version of a student while any version of theirs waits for (or is in) grading:
version 1, returned for revision, would otherwise name the student who handed in the version 2 being graded."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa

from lms.assignments import filetypes
from lms.assignments.models import PENDING, RELEASED_STATES, Assignment, Submission
from lms.extensions import db

_PENDING_VALUES = [s.value for s in PENDING]


def _has_pending_version(user_id: int, assignment_id: int) -> bool:
    return db.session.execute(
        sa.select(
            sa.exists().where(
                Submission.user_id == user_id,
                Submission.assignment_id == assignment_id,
                Submission.state.in_(_PENDING_VALUES),
            )
        )
    ).scalar_one()


def hides_student(submission: Submission) -> bool:
    """Does blind marking hide who handed this version in (from staff)?"""
    if not submission.assignment.blind_marking:
        return False
    if not submission.is_released:
        return True
    return _has_pending_version(submission.user_id, submission.assignment_id)


def grader_sees_name(submission: Submission) -> bool:
    """The opposite of hides_student: staff may see the student's name, email and file names."""
    return not hides_student(submission)


def anonymous_label(submission_id: int) -> str:
    return f"Submission {submission_id}"


def submission_label(submission: Submission) -> str:
    """How staff see the version named: the student's name, or its number under blind marking."""
    if grader_sees_name(submission):
        return submission.user.full_name
    return anonymous_label(submission.id)


def anonymous_file_name(submission_id: int, file_type: str) -> str:
    return f"submission-{submission_id}.{filetypes.EXTENSIONS[file_type]}"


def staff_file_name(submission: Submission) -> str:
    """The download name staff get: the student's own file name, or the submission number under blind marking."""
    if grader_sees_name(submission):
        return filetypes.download_name(submission.original_name, submission.detected_type)
    return anonymous_file_name(submission.id, submission.detected_type)


@cache  # an expression of code alone (SQLAlchemy's are immutable): built once, not for every list page
def name_hidden_clause() -> sa.ColumnElement[bool]:
    """For statements over submissions joined with their assignment: true where blind marking hides the student
    (the same rule as hides_student, in SQL, so a list of versions costs no query per row)."""
    later = sa.orm.aliased(Submission)
    pending = (
        sa.select(later.id)
        .where(
            later.user_id == Submission.user_id,
            later.assignment_id == Submission.assignment_id,
            later.state.in_(_PENDING_VALUES),
        )
        .exists()
    )
    released = Submission.state.in_([s.value for s in RELEASED_STATES])
    return sa.and_(Assignment.blind_marking.is_(True), sa.or_(sa.not_(released), pending))


def students_with_pending_versions(assignment_id: int) -> set[int]:
    """The students of a blind assignment whose names stay hidden on every version (one query)."""
    return set(
        db.session.execute(
            sa.select(Submission.user_id)
            .where(Submission.assignment_id == assignment_id, Submission.state.in_(_PENDING_VALUES))
            .distinct()
        ).scalars()
    )


def hides_in_list(assignment: Assignment, submission: Submission, pending: set[int]) -> bool:
    """hides_student for a list of versions, given students_with_pending_versions() read once."""
    if not assignment.blind_marking:
        return False
    return not submission.is_released or submission.user_id in pending

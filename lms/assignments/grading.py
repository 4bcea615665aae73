"""Staff grade a handed-in version with the rubric, then release the grade. Each grade keeps the rubric it was
given against; each change runs under the submission's row lock (lookups.lock_submission)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from lms.accounts.models import User
from lms.assignments import moderation
from lms.assignments.lookups import lock_submission
from lms.assignments.marks import (  # noqa: F401 (re-exported: callers know them from here)
    DECISIONS,
    MAX_COMMENT,
    MAX_OVERALL,
    fill_grade,
    meets_pass_rule,
    record_grade_change,
)
from lms.assignments.models import GRADABLE, RELEASED_STATES, Grade, Submission, SubmissionState
from lms.assignments.rubric import rubric_drift
from lms.audit import record_event
from lms.errors import DomainError
from lms.events import GradeReleased, ProgressChanged, emit
from lms.extensions import db


def save_grade(
    grader: User,
    submission: Submission,
    levels: Mapping[int, str | None],
    comments: Mapping[int, str],
    overall_comment: str,
    decision: str | None,
    now: datetime,
) -> Grade:
    """Save the grader's work (a draft until released) against the rubric as it is now; every change is kept
    with the old and new values."""
    submission = lock_submission(submission.id)
    state = submission.state_enum
    if state in RELEASED_STATES:
        raise DomainError("This grade is released. It can change only through an accepted regrade request.")
    if state not in GRADABLE:
        raise DomainError("This version is not waiting for a grade.")
    moderation.check_first_marker(grader, submission)
    grade = fill_grade(grader, submission, levels, comments, overall_comment, decision, now)
    moderation.after_first_grade(grader, submission, now)
    db.session.commit()
    return grade


def release_grade(grader: User, submission: Submission, now: datetime) -> Grade:
    """Show the finished grade to the student: passed, or returned for revision (they may then resubmit).

    Refused when the rubric gained (or lost) a criterion since the grade was saved: the grade would not say how
    the work meets the rubric the student reads. Under the row lock, so two graders releasing at once give one
    release: the second is told it is already released."""
    submission = lock_submission(submission.id)
    grade = submission.grade
    if submission.state_enum in RELEASED_STATES:
        raise DomainError("This grade is already released.")
    if submission.state_enum is not SubmissionState.GRADED or grade is None or not grade.complete:
        raise DomainError(
            "Finish the grade first: choose a level for every criterion and a decision, then save."
        )
    drift = rubric_drift(grade, submission.assignment)
    if drift.blocks_release:
        raise DomainError(drift.refusal())
    waiting = moderation.release_blocker(submission)
    if waiting:
        raise DomainError(waiting)
    passed = grade.decision == "pass"
    grade.released_at = now
    grade.released_by_id = grader.id
    grade.release_count += 1
    submission.state = (SubmissionState.RELEASED if passed else SubmissionState.RETURNED).value
    record_grade_change(
        grade, submission, grader, now, "released", None, {**grade.snapshot(), "release": grade.release_count}
    )
    record_event(
        grader.id,
        "assignment.grade_released",
        "submission",
        submission.id,
        decision=grade.decision,
        points=grade.points,
        max_points=grade.max_points,
    )
    db.session.flush()
    track_id = submission.assignment.track_id
    emit(
        GradeReleased(
            submission_id=submission.id,
            user_id=submission.user_id,
            track_id=track_id,
            actor_id=grader.id,
            release_number=grade.release_count,
            passed=passed,
        )
    )
    if passed:
        emit(ProgressChanged(user_id=submission.user_id, track_id=track_id))
    db.session.commit()
    return grade

"""Regrades: a student asks, once per release, for a released grade to be looked at again; staff answer. Both
run under the submission's row lock (lookups.lock_submission)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from lms.accounts.models import User
from lms.assignments.grading import record_grade_change
from lms.assignments.lookups import lock_regrade_request, lock_submission, require_found
from lms.assignments.models import (
    HANDED_IN,
    MAX_REASON,
    PENDING,
    RELEASED_STATES,
    RegradeRequest,
    RegradeState,
    Submission,
    SubmissionState,
)
from lms.audit import record_event
from lms.errors import DomainError
from lms.events import RegradeAnswered, RegradeRequested, emit
from lms.extensions import db
from lms.timezones import UTC_ZONE, format_time


def request_regrade(user: User, submission: Submission, reason: str, now: datetime) -> RegradeRequest:
    """A student asks for a released grade to be looked at again: once per release, with a reason."""
    require_found(submission, "submission", visible=submission.user_id == user.id)  # another's: as if missing
    submission = lock_submission(submission.id)
    grade = submission.grade
    if not submission.is_released or grade is None:
        raise DomainError("You can ask for a regrade once your grade is released.")
    newer = db.session.execute(
        sa.select(sa.func.count()).where(
            Submission.user_id == user.id,
            Submission.assignment_id == submission.assignment_id,
            Submission.state.in_([s.value for s in HANDED_IN]),
            Submission.version > (submission.version or 0),
        )
    ).scalar_one()
    if newer:
        raise DomainError("You have handed in a newer version since this grade; it will be graded instead.")
    reason = (reason or "").strip()
    if len(reason) < 10:
        raise DomainError("Say which criteria you think were misjudged, and why.", field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"Keep your reason under {MAX_REASON} characters.", field="reason")
    already = db.session.execute(
        sa.select(RegradeRequest).where(
            RegradeRequest.submission_id == submission.id,
            RegradeRequest.release_number == grade.release_count,
        )
    ).scalar_one_or_none()
    if already is not None:
        raise DomainError("You have already asked for a regrade of this grade.")
    request = RegradeRequest(
        submission_id=submission.id,
        user_id=user.id,
        release_number=grade.release_count,
        reason=reason,
        requested_at=now,
    )
    db.session.add(request)
    try:
        db.session.flush()
    except sa.exc.IntegrityError as exc:
        db.session.rollback()
        raise DomainError("You have already asked for a regrade of this grade.") from exc
    record_event(user.id, "assignment.regrade_requested", "submission", submission.id, request_id=request.id)
    emit(RegradeRequested(submission_id=submission.id, user_id=user.id, request_id=request.id))
    db.session.commit()
    return request


def answer_regrade(
    staff: User, request: RegradeRequest, accept: bool, response: str, now: datetime
) -> RegradeRequest:
    """Decline (the grade stands) or accept (grading reopens; the student sees the grade again once re-released)."""
    submission = lock_submission(request.submission_id)
    request = lock_regrade_request(request.id)
    if request.state != RegradeState.OPEN.value:
        raise DomainError("This regrade request has already been answered.")
    response = (response or "").strip()
    if not response:
        raise DomainError("Write a reply to the student explaining your answer.", field="response")
    if len(response) > MAX_REASON:
        raise DomainError(f"Keep the reply under {MAX_REASON} characters.", field="response")
    require_found(submission, "submission", visible=submission.grade is not None)
    if accept:
        if submission.state_enum not in RELEASED_STATES:
            raise DomainError("This grade is no longer released, so it cannot be reopened.")
        pending = db.session.execute(
            sa.select(sa.func.count()).where(
                Submission.user_id == submission.user_id,
                Submission.assignment_id == submission.assignment_id,
                Submission.state.in_([s.value for s in PENDING]),
            )
        ).scalar_one()
        if pending:
            raise DomainError("The student has handed in a newer version since; grade that one instead.")
        grade = submission.grade
        old = {
            **grade.snapshot(),
            "state": submission.state,
            "released_at": format_time(grade.released_at, zone=UTC_ZONE),
        }
        grade.released_at = None
        submission.state = SubmissionState.IN_GRADING.value
        record_grade_change(
            grade,
            submission,
            staff,
            now,
            "reopened",
            old,
            {**grade.snapshot(), "state": submission.state, "regrade": request.id},
        )
    # Who and when before the state: reading an expired `staff` flushes, and an answer without a time is refused.
    request.answered_by_id = staff.id
    request.answered_at = now
    request.response = response
    request.state = (RegradeState.ACCEPTED if accept else RegradeState.DECLINED).value
    record_event(
        staff.id,
        "assignment.regrade_answered",
        "submission",
        submission.id,
        request_id=request.id,
        accepted=accept,
    )
    db.session.flush()
    emit(
        RegradeAnswered(
            submission_id=submission.id, user_id=submission.user_id, actor_id=staff.id, accepted=accept
        )
    )
    db.session.commit()
    return request


def regrades_for(submission_id: int) -> list[RegradeRequest]:
    """The regrade requests of one version, newest first."""
    return list(
        db.session.execute(
            sa.select(RegradeRequest)
            .where(RegradeRequest.submission_id == submission_id)
            .order_by(RegradeRequest.requested_at.desc(), RegradeRequest.id.desc())
        ).scalars()
    )


def can_request_regrade(
    submission: Submission, regrades: list[RegradeRequest], history: list[Submission]
) -> bool:
    """Pure: may the student ask for a regrade of this version's grade (released, not yet asked for this
    release, no newer version handed in)?"""
    grade = submission.grade
    if not submission.is_released or grade is None:
        return False
    if any(r.release_number == grade.release_count for r in regrades):
        return False
    return not any((s.version or 0) > (submission.version or 0) for s in history if s.state_enum in HANDED_IN)

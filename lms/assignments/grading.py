"""Staff grade a handed-in version with the rubric, then release the grade. Each grade keeps the rubric it was
given against; each change runs under the submission's row lock (lookups.lock_submission)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from lms.accounts.models import User
from lms.assignments.lookups import lock_submission
from lms.assignments.models import (
    GRADABLE,
    RELEASED_STATES,
    Assignment,
    CriterionScore,
    Grade,
    GradeChange,
    Submission,
    SubmissionState,
)
from lms.assignments.rubric import rubric_drift, snapshot_rubric
from lms.audit import record_event
from lms.errors import DomainError
from lms.events import GradeReleased, ProgressChanged, emit
from lms.extensions import db

MAX_COMMENT = 5000
MAX_OVERALL = 10000
DECISIONS = ("pass", "revise")


def meets_pass_rule(assignment: Assignment, levels: Mapping[int, int | None]) -> bool:
    """Pure: given the points chosen per criterion id, does the work pass the assignment's rule?"""
    criteria = assignment.active_criteria
    if not criteria or any(levels.get(c.id) is None for c in criteria):
        return False
    points = sum(levels[c.id] or 0 for c in criteria)
    maximum = sum(c.max_points for c in criteria)
    if points * 100 < assignment.pass_percent * maximum:
        return False
    return not (assignment.no_missing_criterion and any(levels[c.id] == c.lowest_points for c in criteria))


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
    assignment = submission.assignment
    decision = decision or None
    if decision is not None and decision not in DECISIONS:
        raise DomainError("Choose pass or return for revision.", field="decision")
    overall_comment = (overall_comment or "").strip()
    if len(overall_comment) > MAX_OVERALL:
        raise DomainError(
            f"Keep the overall comment under {MAX_OVERALL} characters.", field="overall_comment"
        )

    grade = submission.grade
    old = grade.snapshot() if grade is not None else None
    if grade is None:
        grade = Grade(submission=submission, scores=[])
        db.session.add(grade)
    chosen: dict[int, int | None] = {}
    for criterion in assignment.active_criteria:
        name = (levels.get(criterion.id) or "").strip() or None
        level = criterion.level(name) if name else None
        if name is not None and level is None:
            raise DomainError(
                f"Choose one of the listed levels for {criterion.title}.", field=f"level_{criterion.id}"
            )
        comment = (comments.get(criterion.id) or "").strip()
        if len(comment) > MAX_COMMENT:
            raise DomainError(
                f"Keep the comment on {criterion.title} under {MAX_COMMENT} characters.",
                field=f"comment_{criterion.id}",
            )
        score = grade.score_for(criterion.id)
        if score is None:
            score = CriterionScore(criterion_id=criterion.id)
            grade.scores.append(score)
        score.level_name = level.name if level else None
        score.points = level.points if level else None
        score.comment = comment
        chosen[criterion.id] = score.points

    complete = all(p is not None for p in chosen.values()) and decision is not None
    meets = meets_pass_rule(assignment, chosen)
    if decision == "pass" and all(p is not None for p in chosen.values()) and not meets:
        rule = f"at least {assignment.pass_percent}% of the points"
        if assignment.no_missing_criterion:
            rule += " and no criterion at its lowest level"
        raise DomainError(
            f"These levels do not meet the pass rule ({rule}). Choose return for revision, "
            "or change the levels.",
            field="decision",
        )
    grade.overall_comment = overall_comment
    grade.decision = decision
    grade.points = sum(p or 0 for p in chosen.values())
    grade.max_points = sum(c.max_points for c in assignment.active_criteria)
    grade.complete = complete
    grade.meets_pass_rule = meets
    grade.rubric = snapshot_rubric(assignment)
    grade.grader_id = grader.id
    grade.saved_at = now
    submission.state = (SubmissionState.GRADED if complete else SubmissionState.IN_GRADING).value
    db.session.flush()
    new = grade.snapshot()
    if new != old:
        record_grade_change(grade, submission, grader, now, "saved", old, new)
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


def record_grade_change(
    grade: Grade,
    submission: Submission,
    actor: User,
    at: datetime,
    action: str,
    old: Mapping[str, Any] | None,
    new: Mapping[str, Any],
) -> None:
    """Keep one step of a grade's history (saved, released, reopened) with who and when."""
    db.session.add(
        GradeChange(
            grade_id=grade.id,
            submission_id=submission.id,
            changed_by_id=actor.id,
            changed_at=at,
            action=action,
            old=old,
            new=new,
        )
    )

"""A marker's choices on the rubric form, checked against the live rubric, and written into the working grade
with its history (every change with who, when, old and new values). Used by the first marker (grading), the
moderator (moderation), and read by second and calibration marks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lms.accounts.models import User
from lms.assignments.models import (
    Assignment,
    CriterionLevel,
    CriterionScore,
    Grade,
    GradeChange,
    Submission,
    SubmissionState,
)
from lms.assignments.rubric import snapshot_rubric
from lms.errors import DomainError
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


def read_rubric(
    assignment: Assignment,
    levels: Mapping[int, str | None],
    comments: Mapping[int, str],
    overall_comment: str,
    decision: str | None,
) -> RubricChoice:
    """Check what a marker chose on the rubric form (levels, comments, decision) against the live rubric."""
    decision = decision or None
    if decision is not None and decision not in DECISIONS:
        raise DomainError("Choose pass or return for revision.", field="decision")
    overall_comment = (overall_comment or "").strip()
    if len(overall_comment) > MAX_OVERALL:
        raise DomainError(
            f"Keep the overall comment under {MAX_OVERALL} characters.", field="overall_comment"
        )
    chosen: dict[int, tuple[CriterionLevel | None, str]] = {}
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
        chosen[criterion.id] = (level, comment)
    points = {cid: (level.points if level else None) for cid, (level, _) in chosen.items()}
    all_levels = all(p is not None for p in points.values())
    meets = meets_pass_rule(assignment, points)
    if decision == "pass" and all_levels and not meets:
        rule = f"at least {assignment.pass_percent}% of the points"
        if assignment.no_missing_criterion:
            rule += " and no criterion at its lowest level"
        raise DomainError(
            f"These levels do not meet the pass rule ({rule}). Choose return for revision, "
            "or change the levels.",
            field="decision",
        )
    return RubricChoice(
        chosen=chosen,
        overall_comment=overall_comment,
        decision=decision,
        points=sum(p or 0 for p in points.values()),
        max_points=sum(c.max_points for c in assignment.active_criteria),
        complete=all_levels and decision is not None,
        meets_pass_rule=meets,
    )


@dataclass(frozen=True)
class RubricChoice:
    """A marker's checked choices on the rubric: per criterion id the level (or None) and comment."""

    chosen: dict[int, tuple[CriterionLevel | None, str]]
    overall_comment: str
    decision: str | None
    points: int
    max_points: int
    complete: bool
    meets_pass_rule: bool


def fill_grade(
    actor: User,
    submission: Submission,
    levels: Mapping[int, str | None],
    comments: Mapping[int, str],
    overall_comment: str,
    decision: str | None,
    now: datetime,
) -> Grade:
    """Write the actor's choices into the submission's working grade (under its lock, taken by the caller) and
    keep the change in the grade's history; no commit."""
    assignment = submission.assignment
    choice = read_rubric(assignment, levels, comments, overall_comment, decision)
    grade = submission.grade
    old = grade.snapshot() if grade is not None else None
    if grade is None:
        grade = Grade(submission=submission, scores=[])
        db.session.add(grade)
    for criterion_id, (level, comment) in choice.chosen.items():
        score = grade.score_for(criterion_id)
        if score is None:
            score = CriterionScore(criterion_id=criterion_id)
            grade.scores.append(score)
        score.level_name = level.name if level else None
        score.points = level.points if level else None
        score.comment = comment
    grade.overall_comment = choice.overall_comment
    grade.decision = choice.decision
    grade.points = choice.points
    grade.max_points = choice.max_points
    grade.complete = choice.complete
    grade.meets_pass_rule = choice.meets_pass_rule
    grade.rubric = snapshot_rubric(assignment)
    grade.grader_id = actor.id
    grade.saved_at = now
    submission.state = (SubmissionState.GRADED if choice.complete else SubmissionState.IN_GRADING).value
    db.session.flush()
    new = grade.snapshot()
    if new != old:
        record_grade_change(grade, submission, actor, now, "saved", old, new)
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

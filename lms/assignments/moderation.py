"""Second marking and moderation: which versions a second marker grades blind, who may mark what, when two marks
disagree, and the moderator's decision.

Which versions: when a version is first graded, it takes the next number in its assignment's sequence (1, 2, 3 ...)
and is second-marked when floor(n * share + offset) > floor((n - 1) * share + offset): systematic sampling with a
fixed offset in [0, 1) drawn from the assignment (draw_offset). After N versions exactly floor(N * share + offset)
are sampled, so the share is kept to within one version at every moment (20 of any 100 at a share of 0.2), spread
evenly through the cohort, never on a student's choice, and the draw is stored (SecondMarking) so it never changes.

What is released: when the two marks are within the tolerance the first marker's grade stands (as awarding bodies
do: the second mark confirms it). Beyond it (more than `moderation_points` apart on the total, more than
`moderation_levels` levels apart on a criterion, or different pass / revise decisions), a moderator who is neither
marker decides, and the decision becomes the grade; the first marker's grade is kept as a "first" Mark."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lms.accounts.models import User
from lms.assignments.lookups import lock_submission
from lms.assignments.marking_models import RELEASABLE, Mark, ModerationState, SecondMarking
from lms.assignments.marks import RubricChoice, fill_grade, read_rubric
from lms.assignments.models import GRADABLE, Assignment, Grade, GradeChange, Submission
from lms.audit import record_event
from lms.database import begin_write_on_sqlite
from lms.errors import DomainError
from lms.extensions import db


def draw_offset(assignment: Assignment) -> float:
    """The assignment's fixed place in the sampling cycle, in [0, 1): from its identity, so it never changes."""
    digest = hashlib.sha256(f"second-marking:{assignment.track_id}:{assignment.slug}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def is_sampled(sequence: int, share: float, offset: float) -> bool:
    """Pure: is the version numbered `sequence` (from 1) second-marked at this share and offset?"""
    if share <= 0:
        return False
    if share >= 1:
        return True
    return int(sequence * share + offset) > int((sequence - 1) * share + offset)


def marking_of(submission_id: int) -> SecondMarking | None:
    return db.session.execute(
        sa.select(SecondMarking).where(SecondMarking.submission_id == submission_id)
    ).scalar_one_or_none()


def latest_mark(kind: str, submission_id: int, marker_id: int | None = None) -> Mark | None:
    """The newest mark of this kind on a submission (by this marker, when given)."""
    stmt = sa.select(Mark).where(Mark.kind == kind, Mark.submission_id == submission_id)
    if marker_id is not None:
        stmt = stmt.where(Mark.marker_id == marker_id)
    return db.session.execute(
        stmt.order_by(Mark.saved_at.desc(), Mark.id.desc()).limit(1)
    ).scalar_one_or_none()


def first_markers(submission_id: int) -> set[int]:
    """Everyone who saved the working grade (a second marker must be none of them)."""
    return set(
        db.session.execute(
            sa.select(GradeChange.changed_by_id).where(
                GradeChange.submission_id == submission_id,
                GradeChange.action == "saved",
                GradeChange.changed_by_id.is_not(None),
            )
        ).scalars()
    )


def _draw(submission: Submission, now: datetime) -> SecondMarking | None:
    """Make the draw for a version at its first grading (under the submission's lock; the assignment's row lock
    hands out sequence numbers one at a time)."""
    existing = marking_of(submission.id)
    assignment = submission.assignment
    if existing is not None or assignment.second_marking <= 0:
        return existing
    begin_write_on_sqlite(db.session)
    db.session.execute(sa.select(Assignment.id).where(Assignment.id == assignment.id).with_for_update())
    last = db.session.execute(
        sa.select(sa.func.max(SecondMarking.sequence)).where(SecondMarking.assignment_id == assignment.id)
    ).scalar_one()
    sequence = (last or 0) + 1
    offset = draw_offset(assignment)
    selected = is_sampled(sequence, assignment.second_marking, offset)
    marking = SecondMarking(
        submission_id=submission.id,
        assignment_id=assignment.id,
        sequence=sequence,
        share=assignment.second_marking,
        phase=offset,
        selected=selected,
        drawn_at=now,
        state=(ModerationState.AWAITING_SECOND if selected else ModerationState.NOT_SAMPLED).value,
    )
    db.session.add(marking)
    db.session.flush()
    return marking


def check_first_marker(grader: User, submission: Submission) -> None:
    """Refuse a change to the working grade that second marking forbids (called under the submission's lock)."""
    marking = marking_of(submission.id)
    if marking is None or not marking.selected or _reopened(submission):
        return
    if marking.state_enum is ModerationState.MODERATED:
        raise DomainError("A moderator decided this grade. It stands as decided; release it.")
    if latest_mark("second", submission.id, grader.id) is not None:
        raise DomainError("You are this version's second marker, so you cannot also give its first grade.")
    grade = submission.grade
    if (
        marking.state_enum is ModerationState.AWAITING_SECOND
        and grade is not None
        and grade.grader_id not in (None, grader.id)
    ):
        raise DomainError(
            "This version is sampled for second marking: only its first marker may change the first grade "
            "until the second mark is in."
        )


def after_first_grade(grader: User, submission: Submission, now: datetime) -> None:
    """Draw the version at its first grading, and compare the marks again once the first grade changed."""
    marking = _draw(submission, now)
    if marking is not None and marking.selected and not _reopened(submission):
        _compare(marking, submission)


def _reopened(submission: Submission) -> bool:
    """Released once and reopened by an accepted regrade request: that review is its own process, so second
    marking (done before the first release) neither blocks nor reopens it."""
    grade = submission.grade
    return grade is not None and grade.release_count > 0


def hides_first_grade(viewer: User, submission: Submission) -> bool:
    """While a sampled version waits for its second mark, only the first marker sees the first grade."""
    marking = marking_of(submission.id)
    if marking is None or marking.state_enum is not ModerationState.AWAITING_SECOND:
        return False
    grade = submission.grade
    return grade is not None and grade.grader_id != viewer.id


def release_blocker(submission: Submission) -> str | None:
    """Why the grade may not be released yet (second marking or moderation still open), or None."""
    marking = marking_of(submission.id)
    if marking is None or marking.state_enum in RELEASABLE:
        return None
    if marking.state_enum is ModerationState.AWAITING_SECOND:
        return "This version is sampled for second marking: release waits for the second marker's grade."
    return "The two marks disagree beyond the tolerance: release waits for the moderator's decision."


def disagreements(assignment: Assignment, first: Grade | Mark, second: Mark) -> list[str]:
    """Where two complete marks differ beyond the assignment's tolerance (empty when they agree)."""
    reasons = []
    if abs(first.points - second.points) > assignment.moderation_points:
        reasons.append(
            f"totals {first.points} and {second.points} are more than {assignment.moderation_points} points apart"
        )
    for criterion in assignment.active_criteria:
        a = _position(criterion.levels, _level_of(first, criterion.id))
        b = _position(criterion.levels, second.level_of(criterion.id))
        if a is not None and b is not None and abs(a - b) > assignment.moderation_levels:
            reasons.append(f"{criterion.title}: {abs(a - b)} levels apart")
    if first.decision != second.decision:
        reasons.append(f"decisions differ ({first.decision} and {second.decision})")
    return reasons


def _level_of(mark: Grade | Mark, criterion_id: int) -> str | None:
    if isinstance(mark, Mark):
        return mark.level_of(criterion_id)
    score = mark.score_for(criterion_id)
    return score.level_name if score else None


def _position(levels: list[Any], name: str | None) -> int | None:
    return next((n for n, level in enumerate(levels) if level.name == name), None)


def _compare(marking: SecondMarking, submission: Submission) -> None:
    if marking.state_enum is ModerationState.MODERATED:
        return
    grade = submission.grade
    second = latest_mark("second", submission.id)
    if grade is None or not grade.complete or second is None or not second.complete:
        marking.state = ModerationState.AWAITING_SECOND.value
    elif disagreements(submission.assignment, grade, second):
        marking.state = ModerationState.AWAITING_MODERATION.value
    else:
        marking.state = ModerationState.AGREED.value


def mark_of(
    kind: str,
    marker_id: int | None,
    assignment: Assignment,
    choice: RubricChoice,
    now: datetime,
    *,
    submission_id: int | None = None,
    exemplar_id: int | None = None,
) -> Mark:
    """A Mark row holding a checked rubric choice (not yet added to the session)."""
    levels = {}
    for criterion in assignment.active_criteria:
        level, comment = choice.chosen.get(criterion.id, (None, ""))
        levels[str(criterion.id)] = _level_entry(criterion, level, comment)
    return Mark(
        kind=kind,
        submission_id=submission_id,
        exemplar_id=exemplar_id,
        marker_id=marker_id,
        levels=levels,
        decision=choice.decision,
        overall_comment=choice.overall_comment,
        points=choice.points,
        max_points=choice.max_points,
        complete=choice.complete,
        saved_at=now,
    )


def _level_entry(criterion: Any, level: Any, comment: str) -> dict[str, Any]:
    return {
        "slug": criterion.slug,
        "level": level.name if level else None,
        "position": _position(criterion.levels, level.name) if level else None,
        "points": level.points if level else None,
        "comment": comment,
    }


def _open_sampled(submission: Submission) -> SecondMarking:
    if submission.state_enum not in GRADABLE:
        raise DomainError("This version is not waiting for a grade.")
    marking = marking_of(submission.id)
    if marking is None or not marking.selected:
        raise DomainError("This version is not sampled for second marking.")
    return marking


def save_second_mark(
    marker: User,
    submission: Submission,
    levels: Mapping[int, str | None],
    comments: Mapping[int, str],
    overall_comment: str,
    decision: str | None,
    now: datetime,
) -> Mark:
    """The second marker's own grade, given without seeing the first; saved as a new Mark each time."""
    submission = lock_submission(submission.id)
    marking = _open_sampled(submission)
    if marking.state_enum is ModerationState.MODERATED:
        raise DomainError("A moderator already decided this grade.")
    if marker.id in first_markers(submission.id):
        raise DomainError("You gave this version's first grade: a different marker must give the second.")
    other = latest_mark("second", submission.id)
    if other is not None and other.marker_id != marker.id:
        raise DomainError("Another marker is this version's second marker.")
    choice = read_rubric(submission.assignment, levels, comments, overall_comment, decision)
    mark = mark_of("second", marker.id, submission.assignment, choice, now, submission_id=submission.id)
    db.session.add(mark)
    db.session.flush()
    _compare(marking, submission)
    record_event(marker.id, "assignment.second_marked", "submission", submission.id, points=mark.points)
    db.session.commit()
    return mark


def decide(
    moderator: User,
    submission: Submission,
    levels: Mapping[int, str | None],
    comments: Mapping[int, str],
    overall_comment: str,
    decision: str | None,
    now: datetime,
) -> Grade:
    """The moderator's decision on two marks that disagree: it becomes the grade (the first marker's grade is kept
    as a "first" Mark and in the grade's history)."""
    submission = lock_submission(submission.id)
    marking = _open_sampled(submission)
    if marking.state_enum is not ModerationState.AWAITING_MODERATION:
        raise DomainError("This version is not waiting for a moderator.")
    second = latest_mark("second", submission.id)
    if moderator.id in first_markers(submission.id) or (
        second is not None and second.marker_id == moderator.id
    ):
        raise DomainError("You marked this version: a moderator must be someone who did not.")
    choice = read_rubric(submission.assignment, levels, comments, overall_comment, decision)
    if not choice.complete:
        raise DomainError(
            "Choose a level for every criterion and a decision: the moderator's grade is final."
        )
    assignment = submission.assignment
    grade = submission.grade
    if grade is not None:
        kept = _choice_of(grade)
        db.session.add(mark_of("first", grade.grader_id, assignment, kept, now, submission_id=submission.id))
    db.session.add(mark_of("moderation", moderator.id, assignment, choice, now, submission_id=submission.id))
    grade = fill_grade(moderator, submission, levels, comments, overall_comment, decision, now)
    marking.state = ModerationState.MODERATED.value
    marking.decided_by_id = moderator.id
    marking.decided_at = now
    record_event(moderator.id, "assignment.moderated", "submission", submission.id, points=grade.points)
    db.session.commit()
    return grade


def _choice_of(grade: Grade) -> RubricChoice:
    criteria = {c.id: c for c in grade.submission.assignment.active_criteria}
    chosen = {}
    for cid, criterion in criteria.items():
        score = grade.score_for(cid)
        chosen[cid] = (criterion.level(score.level_name) if score else None, score.comment if score else "")
    return RubricChoice(
        chosen=chosen,
        overall_comment=grade.overall_comment,
        decision=grade.decision,
        points=grade.points,
        max_points=grade.max_points,
        complete=grade.complete,
        meets_pass_rule=grade.meets_pass_rule,
    )

"""Assignment rules as verb-first functions: upload, submit, grade, release, regrade, extend; and the reads."""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from lms.accounts.models import User
from lms.assignments import filetypes, storage
from lms.assignments.models import (
    GRADABLE,
    HANDED_IN,
    PENDING,
    RELEASED_STATES,
    Assignment,
    Criterion,
    CriterionScore,
    Extension,
    Grade,
    GradeChange,
    RegradeRequest,
    RegradeState,
    Submission,
    SubmissionState,
)
from lms.audit import record_event
from lms.courses.models import Cohort, Enrollment, Track
from lms.errors import DomainError, NotFound
from lms.events import ProgressChanged, emit
from lms.extensions import db

MAX_COMMENT = 5000
MAX_OVERALL = 10000
MAX_REASON = 2000
DECISIONS = ("pass", "revise")


# ---- dates -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadlines:
    base_due_at: datetime  # enrolment (or the cohort's start) + due_days
    due_at: datetime  # the base, or the student's extension
    cutoff_at: datetime | None  # uploads stop after this (None: never)
    extended: bool
    counted_from: str = "enrolment"  # "enrolment" | "cohort": what base_due_at counts from
    no_cohort: bool = False  # the assignment counts from a cohort start but the student is in no cohort

    def is_closed(self, now: datetime) -> bool:
        return self.cutoff_at is not None and now > self.cutoff_at


def deadlines_for(
    assignment: Assignment,
    enrolled_at: datetime,
    extension: Extension | None,
    cohort_starts_at: datetime | None = None,
) -> Deadlines:
    """The student's dates. With due_from = "cohort", due_days count from the cohort's start; a student in no
    cohort falls back to their enrolment."""
    from_cohort = assignment.due_from == "cohort" and cohort_starts_at is not None
    start = cohort_starts_at if from_cohort and cohort_starts_at is not None else enrolled_at
    base = start + timedelta(days=assignment.due_days)
    due = extension.due_at if extension is not None else base
    cutoff = due + timedelta(days=assignment.cutoff_days) if assignment.cutoff_days is not None else None
    return Deadlines(
        base_due_at=base,
        due_at=due,
        cutoff_at=cutoff,
        extended=extension is not None,
        counted_from="cohort" if from_cohort else "enrolment",
        no_cohort=assignment.due_from == "cohort" and cohort_starts_at is None,
    )


def enrollment_deadlines(
    assignment: Assignment, enrollment: Enrollment, extension: Extension | None, cohort: Cohort | None
) -> Deadlines:
    return deadlines_for(
        assignment, enrollment.enrolled_at, extension, cohort.starts_at if cohort is not None else None
    )


def describe_duration(seconds: int | float) -> str:
    """'3 days 4 hours', '25 minutes': how late, in words."""
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = max(rest // 60, 0 if days or hours else 1)
    parts = [(days, "day"), (hours, "hour")] if days else [(hours, "hour"), (minutes, "minute")]
    words = [f"{n} {unit}{'' if n == 1 else 's'}" for n, unit in parts if n]
    return " ".join(words) or "1 minute"


def format_time(value: datetime | None) -> str:
    return value.strftime("%d %b %Y, %H:%M UTC") if value is not None else ""


# ---- lookups -----------------------------------------------------------------------------------------------


def find_assignment(track_slug: str, slug: str) -> Assignment:
    assignment = db.session.execute(
        sa.select(Assignment)
        .join(Track, Track.id == Assignment.track_id)
        .where(Track.slug == track_slug, Assignment.slug == slug, Assignment.retired_at.is_(None))
        .options(selectinload(Assignment.criteria).selectinload(Criterion.levels))
    ).scalar_one_or_none()
    if assignment is None:
        raise NotFound("There is no such assignment.")
    return assignment


def get_assignment(assignment_id: int) -> Assignment:
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None:
        raise NotFound("There is no such assignment.")
    return assignment


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
    if submission is None or (submission.user_id != user.id and not user.is_staff):
        raise NotFound("There is no such submission.")
    return submission


def active_enrollment(user_id: int, track_id: int) -> Enrollment | None:
    return db.session.execute(
        sa.select(Enrollment).where(
            Enrollment.user_id == user_id, Enrollment.track_id == track_id, Enrollment.left_at.is_(None)
        )
    ).scalar_one_or_none()


def latest_extension(assignment_id: int, user_id: int) -> Extension | None:
    return db.session.execute(
        sa.select(Extension)
        .where(Extension.assignment_id == assignment_id, Extension.user_id == user_id)
        .order_by(Extension.granted_at.desc(), Extension.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def student_deadlines(user_id: int, assignment: Assignment) -> Deadlines | None:
    enrollment = active_enrollment(user_id, assignment.track_id)
    if enrollment is None:
        return None
    return enrollment_deadlines(
        assignment, enrollment, latest_extension(assignment.id, user_id), enrollment.cohort
    )


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


# ---- students: upload and submit ---------------------------------------------------------------------------


def _require_enrollment(user: User, assignment: Assignment) -> Deadlines:
    deadlines = student_deadlines(user.id, assignment)
    if deadlines is None:
        raise DomainError("Enrol in this track before you upload work for its assignment.")
    return deadlines


def _require_open(deadlines: Deadlines, history: list[Submission], now: datetime) -> None:
    states = {s.state_enum for s in history}
    if SubmissionState.RELEASED in states:
        raise DomainError("You have passed this assignment, so there is nothing more to upload.")
    revising = SubmissionState.RETURNED in states  # a requested revision is not held to the cut-off
    if not revising and deadlines.is_closed(now):
        raise DomainError(
            f"Uploads for this assignment closed on {format_time(deadlines.cutoff_at)}. "
            "If you need more time, ask your instructor for an extension."
        )


def upload_draft(
    user: User, assignment: Assignment, stream: IO[bytes], filename: str | None, now: datetime
) -> Submission:
    """Store an uploaded file as the student's draft (replacing an earlier draft, which is kept)."""
    deadlines = _require_enrollment(user, assignment)
    history = submissions_of(user.id, assignment.id)
    _require_open(deadlines, history, now)

    def inspect(path: Any) -> str:
        found = filetypes.detect_type(path)
        if found not in assignment.formats:
            raise filetypes.UnsupportedFile(
                f"This assignment does not accept {filetypes.LABELS[found]} files. "
                f"{filetypes.accepted_sentence(assignment.formats)}"
            )
        return found

    stored, file_type = storage.store_stream(stream, assignment.max_bytes, inspect)
    try:
        for old in history:
            if old.state_enum is SubmissionState.DRAFT:
                old.state = SubmissionState.REPLACED.value
        db.session.flush()
        submission = Submission(
            assignment_id=assignment.id,
            user_id=user.id,
            state=SubmissionState.DRAFT.value,
            stored_name=stored.name,
            original_name=filetypes.safe_display_name(filename),
            size_bytes=stored.size,
            sha256=stored.sha256,
            detected_type=file_type,
            uploaded_at=now,
        )
        db.session.add(submission)
        db.session.flush()
        record_event(
            user.id,
            "assignment.uploaded",
            "submission",
            submission.id,
            size=stored.size,
            sha256=stored.sha256,
            type=file_type,
        )
        db.session.commit()
    except sa.exc.IntegrityError as exc:  # another upload of the same student won the race
        db.session.rollback()
        storage.delete(stored.name)
        raise DomainError(
            "Another upload finished at the same moment. Reload the page and check your draft."
        ) from exc
    except BaseException:
        db.session.rollback()
        storage.delete(stored.name)
        raise
    return submission


def submit_draft(user: User, assignment: Assignment, confirmed: bool, now: datetime) -> Submission:
    """Hand in the current draft for grading; it becomes a numbered version, marked late after the due date."""
    if not confirmed:
        raise DomainError(
            "Tick the box to confirm that this is the version you want graded.", field="confirm"
        )
    deadlines = _require_enrollment(user, assignment)
    history = submissions_of(user.id, assignment.id)
    draft = next((s for s in history if s.state_enum is SubmissionState.DRAFT), None)
    if draft is None:
        raise DomainError("Upload your file first; then you can submit it for grading.")
    _require_open(deadlines, history, now)
    pending = next((s for s in history if s.state_enum in PENDING), None)
    if pending is not None and pending.state_enum is not SubmissionState.SUBMITTED:
        raise DomainError(
            "Your previous version is being graded. You can submit again once that grade is released."
        )
    if pending is not None:
        pending.state = SubmissionState.SUPERSEDED.value  # not yet picked up: the newer version replaces it
        db.session.flush()
    is_revision = any(s.state_enum is SubmissionState.RETURNED for s in history)
    late = 0 if is_revision else max(0, int((now - deadlines.due_at).total_seconds()))
    draft.state = SubmissionState.SUBMITTED.value
    draft.submitted_at = now
    draft.version = 1 + max((s.version or 0 for s in history), default=0)
    draft.due_at = deadlines.due_at
    draft.late_seconds = late
    draft.is_revision = is_revision
    record_event(
        user.id,
        "assignment.submitted",
        "submission",
        draft.id,
        version=draft.version,
        late_seconds=late,
        revision=is_revision,
    )
    db.session.commit()
    return draft


# ---- instructors: grading ----------------------------------------------------------------------------------


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
    """Save the grader's work (a draft until released); every change is kept with the old and new values."""
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
    grade.grader_id = grader.id
    grade.saved_at = now
    submission.state = (SubmissionState.GRADED if complete else SubmissionState.IN_GRADING).value
    db.session.flush()
    new = grade.snapshot()
    if new != old:
        db.session.add(
            GradeChange(
                grade_id=grade.id,
                submission_id=submission.id,
                changed_by_id=grader.id,
                changed_at=now,
                action="saved",
                old=old,
                new=new,
            )
        )
    db.session.commit()
    return grade


def release_grade(grader: User, submission: Submission, now: datetime) -> Grade:
    """Show the finished grade to the student: passed, or returned for revision (they may then resubmit)."""
    grade = submission.grade
    if submission.state_enum in RELEASED_STATES:
        raise DomainError("This grade is already released.")
    if submission.state_enum is not SubmissionState.GRADED or grade is None or not grade.complete:
        raise DomainError(
            "Finish the grade first: choose a level for every criterion and a decision, then save."
        )
    passed = grade.decision == "pass"
    grade.released_at = now
    grade.released_by_id = grader.id
    grade.release_count += 1
    submission.state = (SubmissionState.RELEASED if passed else SubmissionState.RETURNED).value
    db.session.add(
        GradeChange(
            grade_id=grade.id,
            submission_id=submission.id,
            changed_by_id=grader.id,
            changed_at=now,
            action="released",
            old=None,
            new={**grade.snapshot(), "release": grade.release_count},
        )
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
    if passed:
        emit(ProgressChanged(user_id=submission.user_id, track_id=submission.assignment.track_id))
    db.session.commit()
    return grade


# ---- regrades and extensions -------------------------------------------------------------------------------


def request_regrade(user: User, submission: Submission, reason: str, now: datetime) -> RegradeRequest:
    """A student asks for a released grade to be looked at again: once per release, with a reason."""
    if submission.user_id != user.id:
        raise NotFound("There is no such submission.")
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
    db.session.commit()
    return request


def answer_regrade(
    staff: User, request: RegradeRequest, accept: bool, response: str, now: datetime
) -> RegradeRequest:
    """Decline (the grade stands) or accept (grading reopens; the student sees the grade again once re-released)."""
    if request.state != RegradeState.OPEN.value:
        raise DomainError("This regrade request has already been answered.")
    response = (response or "").strip()
    if not response:
        raise DomainError("Write a reply to the student explaining your answer.", field="response")
    if len(response) > MAX_REASON:
        raise DomainError(f"Keep the reply under {MAX_REASON} characters.", field="response")
    submission = db.session.get(Submission, request.submission_id)
    if submission is None or submission.grade is None:
        raise NotFound("There is no such submission.")
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
        old = {**grade.snapshot(), "state": submission.state, "released_at": format_time(grade.released_at)}
        grade.released_at = None
        submission.state = SubmissionState.IN_GRADING.value
        db.session.add(
            GradeChange(
                grade_id=grade.id,
                submission_id=submission.id,
                changed_by_id=staff.id,
                changed_at=now,
                action="reopened",
                old=old,
                new={**grade.snapshot(), "state": submission.state, "regrade": request.id},
            )
        )
    request.state = (RegradeState.ACCEPTED if accept else RegradeState.DECLINED).value
    request.response = response
    request.answered_by_id = staff.id
    request.answered_at = now
    record_event(
        staff.id,
        "assignment.regrade_answered",
        "submission",
        submission.id,
        request_id=request.id,
        accepted=accept,
    )
    db.session.commit()
    return request


def get_regrade_request(request_id: int) -> RegradeRequest:
    request = db.session.get(RegradeRequest, request_id)
    if request is None:
        raise NotFound("There is no such regrade request.")
    return request


def grant_extension(
    staff: User, assignment: Assignment, student_id: int, due_at: datetime | None, reason: str, now: datetime
) -> Extension:
    """Give one enrolled student a later due date (the cut-off moves with it). Earlier grants are kept."""
    enrollment = active_enrollment(student_id, assignment.track_id)
    if enrollment is None:
        raise DomainError("That student is not enrolled in this track.", field="student")
    if due_at is None:
        raise DomainError("Enter the new due date and time.", field="due_at")
    base = enrollment_deadlines(assignment, enrollment, None, enrollment.cohort).due_at
    if due_at <= base:
        raise DomainError(
            f"An extension must be later than the normal due date ({format_time(base)}).", field="due_at"
        )
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Say why the extension is granted; it is kept with the record.", field="reason")
    if len(reason) > MAX_REASON:
        raise DomainError(f"Keep the reason under {MAX_REASON} characters.", field="reason")
    extension = Extension(
        assignment_id=assignment.id,
        user_id=student_id,
        due_at=due_at,
        reason=reason,
        granted_by_id=staff.id,
        granted_at=now,
    )
    db.session.add(extension)
    db.session.flush()
    record_event(
        staff.id,
        "assignment.extension_granted",
        "assignment",
        assignment.id,
        student_id=student_id,
        due_at=due_at.isoformat(),
        extension_id=extension.id,
    )
    db.session.commit()
    return extension


# ---- reads for the pages -----------------------------------------------------------------------------------

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


def queue_statement(track_slug: str = "", state: str = "todo", late: str = "") -> sa.Select[Any]:
    """Handed-in versions for the grading queue, oldest first, with everything the list shows in one query."""
    open_regrade = (
        sa.select(RegradeRequest.id)
        .where(RegradeRequest.submission_id == Submission.id, RegradeRequest.state == RegradeState.OPEN.value)
        .exists()
    )
    student = aliased(User)
    stmt = (
        sa.select(Submission, Assignment, Track, student, open_regrade.label("regrade_open"))
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .join(Track, Track.id == Assignment.track_id)
        .join(student, student.id == Submission.user_id)
        .where(Submission.state.in_([s.value for s in HANDED_IN if s is not SubmissionState.SUPERSEDED]))
        .order_by(Submission.submitted_at.asc(), Submission.id.asc())
    )
    if track_slug:
        stmt = stmt.where(Track.slug == track_slug)
    if state == "todo":
        stmt = stmt.where(sa.or_(Submission.state.in_([s.value for s in PENDING]), open_regrade))
    elif state == "regrade":
        stmt = stmt.where(open_regrade)
    elif state in {s.value for s in SubmissionState}:
        stmt = stmt.where(Submission.state == state)
    if late == "yes":
        stmt = stmt.where(Submission.late_seconds > 0)
    elif late == "no":
        stmt = stmt.where(sa.func.coalesce(Submission.late_seconds, 0) == 0)
    return stmt


def queue_tracks() -> list[Track]:
    return list(
        db.session.execute(
            sa.select(Track)
            .where(Track.id.in_(sa.select(Assignment.track_id)))
            .order_by(Track.position, Track.title)
        ).scalars()
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
    return list(
        db.session.execute(
            sa.select(Assignment)
            .where(Assignment.retired_at.is_(None))
            .options(selectinload(Assignment.track))
            .order_by(Assignment.track_id, Assignment.id)
        ).scalars()
    )


def grader_sees_name(submission: Submission) -> bool:
    """Blind marking: until the grade is released, graders see the submission number, not the student."""
    return not submission.assignment.blind_marking or submission.is_released


def submission_label(submission: Submission) -> str:
    if grader_sees_name(submission):
        return submission.user.full_name
    return f"Submission {submission.id}"


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


def regrades_for(submission_id: int) -> list[RegradeRequest]:
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
    grade = submission.grade
    if not submission.is_released or grade is None:
        return False
    if any(r.release_number == grade.release_count for r in regrades):
        return False
    return not any((s.version or 0) > (submission.version or 0) for s in history if s.state_enum in HANDED_IN)


def extension_overview(assignment: Assignment) -> list[dict[str, Any]]:
    """Every enrolled student with their due date and the extensions granted (three queries in all)."""
    enrollments = list(
        db.session.execute(
            sa.select(Enrollment, User, Cohort)
            .join(User, User.id == Enrollment.user_id)
            .outerjoin(Cohort, Cohort.id == Enrollment.cohort_id)
            .where(Enrollment.track_id == assignment.track_id, Enrollment.left_at.is_(None))
            .order_by(User.full_name, User.id)
        ).all()
    )
    extensions: dict[int, list[Extension]] = {}
    for extension in db.session.execute(
        sa.select(Extension)
        .where(Extension.assignment_id == assignment.id)
        .options(selectinload(Extension.granted_by))
        .order_by(Extension.granted_at.desc(), Extension.id.desc())
    ).scalars():
        extensions.setdefault(extension.user_id, []).append(extension)
    rows = []
    for enrollment, user, cohort in enrollments:
        granted = extensions.get(user.id, [])
        rows.append(
            {
                "user": user,
                "deadlines": enrollment_deadlines(
                    assignment, enrollment, granted[0] if granted else None, cohort
                ),
                "extensions": granted,
            }
        )
    return rows


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
    return db.session.execute(
        sa.select(sa.func.count())
        .select_from(Submission)
        .join(Assignment, Assignment.id == Submission.assignment_id)
        .where(Submission.state.in_([s.value for s in PENDING]), Assignment.retired_at.is_(None))
    ).scalar_one()


def build_submissions_zip(assignment: Assignment) -> Path:
    """Every student's latest handed-in version, one folder each ("Name - submission N"), in a temporary file
    inside UPLOAD_DIR (the caller removes it once sent)."""
    latest = (
        sa.select(Submission.user_id, sa.func.max(Submission.version).label("version"))
        .where(
            Submission.assignment_id == assignment.id,
            Submission.state.in_([s.value for s in HANDED_IN if s is not SubmissionState.SUPERSEDED]),
        )
        .group_by(Submission.user_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Submission, User)
        .join(latest, sa.and_(latest.c.user_id == Submission.user_id, latest.c.version == Submission.version))
        .join(User, User.id == Submission.user_id)
        .where(Submission.assignment_id == assignment.id)
        .order_by(Submission.id)
    ).all()
    partial_dir = storage.upload_dir() / "partial"
    partial_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=partial_dir, prefix="download-", suffix=".zip")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            _write_zip(out, rows)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _write_zip(out: IO[bytes], rows: Any) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for submission, user in rows:
            if grader_sees_name(submission):
                folder = filetypes.safe_display_name(f"{user.full_name} - submission {submission.id}")
                name = filetypes.download_name(submission.original_name, submission.detected_type)
            else:
                folder = f"submission {submission.id}"
                name = f"submission-{submission.id}.{filetypes.EXTENSIONS[submission.detected_type]}"
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=submission.submitted_at.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            with (
                storage.path_for(submission.stored_name).open("rb") as source,
                archive.open(info, "w") as target,
            ):
                shutil.copyfileobj(source, target, storage.CHUNK)

"""Students hand in work: upload a file as the draft, then submit the draft as a numbered version for grading.
Both decide under a lock on the student's rows (lookups.lock_submissions_of), so a double click is told what
happened instead of meeting a unique index."""

from __future__ import annotations

from datetime import datetime
from typing import IO, Any

import sqlalchemy as sa

from lms.accounts.models import User
from lms.assignments import filetypes, quota, storage
from lms.assignments.deadlines import Deadlines, student_deadlines
from lms.assignments.lookups import lock_submissions_of, submissions_of
from lms.assignments.models import PENDING, Assignment, Submission, SubmissionState
from lms.audit import record_event
from lms.errors import DomainError
from lms.extensions import db
from lms.timezones import format_time


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
    """Store an uploaded file as the student's draft (replacing an earlier draft, which is kept). The file must be
    what its name says it is (filetypes.check_name), must not unpack into far more than it is (a zip bomb), and
    must fit in the student's quota for the assignment (quota.require_room)."""
    deadlines = _require_enrollment(user, assignment)
    before = submissions_of(user.id, assignment.id)
    _require_open(deadlines, before, now)
    quota.require_room(before)  # before a byte is written: a full quota costs no disk

    def inspect(path: Any) -> str:
        found = filetypes.check_name(filename, storage.detect_type(path))
        if found not in assignment.formats:
            raise filetypes.UnsupportedFile(
                f"This assignment does not accept {filetypes.LABELS[found]} files. "
                f"{filetypes.accepted_sentence(assignment.formats)}"
            )
        return found

    stored, file_type = storage.store_stream(stream, assignment.max_bytes, inspect)
    try:
        history = lock_submissions_of(user.id, assignment.id)
        _require_open(deadlines, history, now)  # again, now that nothing else can change it
        quota.require_room(history, stored.size)
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
    history = lock_submissions_of(user.id, assignment.id)
    draft = next((s for s in history if s.state_enum is SubmissionState.DRAFT), None)
    if draft is None:
        waiting = next((s for s in history if s.state_enum in PENDING), None)
        if waiting is not None:  # a second click, or a second tab, after the first submit went through
            raise DomainError(
                f"Version {waiting.version} is already submitted for grading, and there is no newer draft "
                "to submit."
            )
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
    try:
        db.session.commit()
    except sa.exc.IntegrityError as exc:  # the lock makes this unlikely; a clear answer, never a 500
        db.session.rollback()
        raise DomainError(
            "This draft was submitted a moment ago (a second click or another tab). Reload the page to see it."
        ) from exc
    return draft

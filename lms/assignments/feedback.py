"""Feedback files: a grader attaches a file (an annotated PDF, say) to a version's grade. Each attachment is a new
version of the grade's feedback file, kept with who and when; the student downloads the newest once the grade is
released, and never before."""

from __future__ import annotations

from datetime import datetime
from typing import IO, Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.assignments import filetypes, storage
from lms.assignments.lookups import lock_submission, require_found
from lms.assignments.models import (
    GRADABLE,
    RELEASED_STATES,
    FeedbackFile,
    Grade,
    Submission,
    SubmissionState,
)
from lms.assignments.rubric import snapshot_rubric
from lms.audit import record_event
from lms.errors import DomainError
from lms.extensions import db


def feedback_refusal(submission: Submission) -> str | None:
    """Why no feedback file can be attached to this version now (None: it can)."""
    state = submission.state_enum
    if state in RELEASED_STATES:
        return "This grade is released. Its feedback can change only through an accepted regrade request."
    if state not in GRADABLE:
        return "This version is not waiting for a grade."
    return None


def inspect_feedback(filename: str | None) -> Any:
    """The check a feedback file gets once stored: a document of a type we know, named as what it is."""

    def inspect(path: Any) -> str:
        return filetypes.check_name(filename, storage.detect_type(path))

    return inspect


def record_feedback_file(
    grader: User,
    submission: Submission,
    stored: storage.StoredFile,
    file_type: str,
    filename: str | None,
    source: str,
    now: datetime,
) -> FeedbackFile:
    """Add a stored file as the next feedback version of the submission's grade (the submission locked and
    checked with feedback_refusal; the caller commits). A version nobody has graded yet gets its grade here."""
    grade = submission.grade
    if grade is None:
        rubric = snapshot_rubric(submission.assignment)
        grade = Grade(submission=submission, scores=[], grader_id=grader.id, saved_at=now, rubric=rubric)
        db.session.add(grade)
    if submission.state_enum is SubmissionState.SUBMITTED:
        submission.state = (
            SubmissionState.IN_GRADING.value
        )  # picked up: a newer hand-in no longer replaces it
    db.session.flush()
    version = 1 + (
        db.session.execute(
            sa.select(sa.func.max(FeedbackFile.version)).where(FeedbackFile.grade_id == grade.id)
        ).scalar_one()
        or 0
    )
    feedback = FeedbackFile(
        grade_id=grade.id,
        submission_id=submission.id,
        version=version,
        stored_name=stored.name,
        original_name=filetypes.safe_display_name(filename, fallback="feedback"),
        size_bytes=stored.size,
        sha256=stored.sha256,
        detected_type=file_type,
        source=source,
        uploaded_by_id=grader.id,
        uploaded_at=now,
    )
    db.session.add(feedback)
    db.session.flush()
    record_event(
        grader.id,
        "assignment.feedback_file_attached",
        "submission",
        submission.id,
        version=version,
        sha256=stored.sha256,
        type=file_type,
        source=source,
    )
    return feedback


def attach_feedback_file(
    grader: User, submission: Submission, stream: IO[bytes], filename: str | None, now: datetime
) -> FeedbackFile:
    """Store an uploaded file as the next version of the grade's feedback file."""
    refusal = feedback_refusal(submission)
    if refusal is not None:  # before reading the body; checked again under the lock
        raise DomainError(refusal)
    stored, file_type = storage.store_stream(
        stream, submission.assignment.max_bytes, inspect_feedback(filename)
    )
    try:
        submission = lock_submission(submission.id)
        refusal = feedback_refusal(submission)
        if refusal is not None:
            raise DomainError(refusal)
        feedback = record_feedback_file(grader, submission, stored, file_type, filename, "page", now)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        storage.delete(stored.name)
        raise
    return feedback


def feedback_files_of(submission_id: int) -> list[FeedbackFile]:
    """Every feedback file of the version's grade, newest first, with who attached it."""
    return list(
        db.session.execute(
            sa.select(FeedbackFile)
            .where(FeedbackFile.submission_id == submission_id)
            .options(selectinload(FeedbackFile.uploaded_by))
            .order_by(FeedbackFile.version.desc())
        ).scalars()
    )


def released_feedback_file(submission: Submission, files: list[FeedbackFile]) -> FeedbackFile | None:
    """Pure: the feedback file the student may download (the newest, once the grade is released)."""
    if not submission.is_released or not files:
        return None
    return max(files, key=lambda f: f.version)


def get_feedback_file(user: User, submission: Submission, file_id: int) -> FeedbackFile:
    """A feedback file of the version, if `user` may download it: staff any version, the student the released one
    of their own work. Anyone else, or the student before release, gets NotFound (a 404)."""
    files = feedback_files_of(submission.id)
    found = next((f for f in files if f.id == file_id), None)
    if user.is_staff:
        return require_found(found, "feedback file")
    released = released_feedback_file(submission, files) if submission.user_id == user.id else None
    return require_found(found, "feedback file", visible=found is not None and found is released)

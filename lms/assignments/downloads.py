"""The staff download: every student's latest handed-in version of an assignment, in one zip file, one folder per
student (named by the submission number alone under blind marking). bulk_feedback reads these folder names back."""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

from lms.accounts.models import User
from lms.assignments import filetypes, storage
from lms.assignments.anonymity import (
    anonymous_file_name,
    anonymous_label,
    hides_in_list,
    students_with_pending_versions,
)
from lms.assignments.models import HANDED_IN, Assignment, Submission, SubmissionState
from lms.extensions import db


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
    pending = students_with_pending_versions(assignment.id) if assignment.blind_marking else set()
    fd, name = tempfile.mkstemp(dir=partial_dir, prefix="download-", suffix=".zip")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            _write_zip(out, assignment, rows, pending)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def _write_zip(out: IO[bytes], assignment: Assignment, rows: Any, pending: set[int]) -> None:
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for submission, user in rows:
            if not hides_in_list(assignment, submission, pending):
                folder = filetypes.safe_display_name(f"{user.full_name} - submission {submission.id}")
                name = filetypes.download_name(submission.original_name, submission.detected_type)
            else:
                folder = anonymous_label(submission.id).lower()
                name = anonymous_file_name(submission.id, submission.detected_type)
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=submission.submitted_at.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            with (
                storage.path_for(submission.stored_name).open("rb") as source,
                archive.open(info, "w") as target,
            ):
                shutil.copyfileobj(source, target, storage.CHUNK)

"""What one student may keep per assignment (a number of stored uploads and megabytes, whichever comes first), the
student deleting a draft never handed in, and pruning drafts replaced long ago.

A version handed in is never touched. A draft that loses its file keeps its row (state "replaced"), saying who
removed the file ("deleted" by the student) or that it was "pruned", and when: every upload stays in the history.
The bytes are removed only after the row says so has committed; a failure in between leaves a file that
`lms check-storage` reports (and with --fix quarantines), never a row that points at nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from lms.accounts.models import User
from lms.assignments import storage
from lms.assignments.lookups import lock_submissions_of
from lms.assignments.models import Assignment, Submission, SubmissionState
from lms.audit import record_event
from lms.errors import DomainError, NotFound
from lms.extensions import db

MB = 1024 * 1024
UNSUBMITTED = (SubmissionState.DRAFT, SubmissionState.REPLACED)
PRUNE_BATCH = 500


@dataclass(frozen=True)
class Quota:
    """A student's stored uploads for one assignment, against the limits."""

    files: int
    bytes: int
    max_files: int
    max_bytes: int

    @property
    def full(self) -> bool:
        return self.files >= self.max_files or self.bytes >= self.max_bytes

    def admits(self, size: int) -> bool:
        return self.files + 1 <= self.max_files and self.bytes + size <= self.max_bytes

    def refusal(self, can_delete: bool) -> DomainError:
        way_out = (
            "Delete drafts you no longer need (in the list of stored drafts below), then upload again."
            if can_delete
            else "Every stored upload is a version handed in, and those are kept: ask your instructor."
        )
        return DomainError(
            f"You have {self.files} stored upload{'s' if self.files != 1 else ''} "
            f"({_mb(self.bytes)}) for this assignment, and it keeps at most {self.max_files} "
            f"upload{'s' if self.max_files != 1 else ''} or {_mb(self.max_bytes)}. {way_out}",
            field="file",
        )


def _mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


def quota_of(history: list[Submission]) -> Quota:
    """What the student's uploads for one assignment (submissions_of) hold on disk, against the limits."""
    kept = [s for s in history if s.has_file]
    return Quota(
        files=len(kept),
        bytes=sum(s.size_bytes for s in kept),
        max_files=int(current_app.config["UPLOAD_QUOTA_VERSIONS"]),
        max_bytes=int(current_app.config["UPLOAD_QUOTA_MB"]) * MB,
    )


def require_room(history: list[Submission], size: int = 0) -> None:
    """Refuse (DomainError) an upload of `size` bytes that would take the student past the quota."""
    quota = quota_of(history)
    if quota.full or not quota.admits(size):
        raise quota.refusal(can_delete=bool(deletable_drafts(history)))


def deletable_drafts(history: list[Submission]) -> list[Submission]:
    """The student's uploads that may lose their file: never handed in, file still kept."""
    return [s for s in history if s.state_enum in UNSUBMITTED and s.has_file]


def delete_draft(user: User, assignment: Assignment, submission_id: int, now: datetime) -> Submission:
    """The student removes the file of one of their own drafts never handed in; the row stays, saying so."""
    history = lock_submissions_of(user.id, assignment.id)
    found = next((s for s in history if s.id == submission_id), None)
    if found is None:
        raise NotFound("There is no such draft.")
    if found.state_enum not in UNSUBMITTED:
        raise DomainError("This version is handed in for grading, and handed-in versions are kept for good.")
    if not found.has_file:
        raise DomainError("This draft's file was already removed.")
    found.state = SubmissionState.REPLACED.value
    found.file_removed_at = now
    found.file_removed_by_id = user.id
    found.file_removed_reason = "deleted"
    record_event(user.id, "assignment.draft_deleted", "submission", found.id, size=found.size_bytes)
    db.session.commit()
    storage.delete(found.stored_name)
    return found


def prune_replaced_drafts(now: datetime) -> int:
    """Remove the files of drafts replaced (by a newer upload) more than DRAFT_RETENTION_DAYS ago and never
    handed in; their rows stay, marked "pruned". Returns how many files went. Retention 0 prunes nothing."""
    days = int(current_app.config["DRAFT_RETENTION_DAYS"])
    if days <= 0:
        return 0
    cutoff = now - timedelta(days=days)
    newer = sa.orm.aliased(Submission)
    replaced_at = (
        sa.select(sa.func.min(newer.uploaded_at))
        .where(
            newer.assignment_id == Submission.assignment_id,
            newer.user_id == Submission.user_id,
            newer.id > Submission.id,
        )
        .scalar_subquery()
    )
    pruned = 0
    while True:
        rows = list(
            db.session.execute(
                sa.select(Submission)
                .where(
                    Submission.state == SubmissionState.REPLACED.value,
                    Submission.submitted_at.is_(None),
                    Submission.file_removed_at.is_(None),
                    replaced_at < cutoff,
                )
                .order_by(Submission.id)
                .limit(PRUNE_BATCH)
                .with_for_update(of=Submission, skip_locked=True)
            ).scalars()
        )
        if not rows:
            return pruned
        for row in rows:
            row.file_removed_at = now
            row.file_removed_reason = "pruned"
            record_event(None, "assignment.draft_pruned", "submission", row.id, size=row.size_bytes)
        names = [row.stored_name for row in rows]
        db.session.commit()
        for name in names:
            storage.delete(name)
        pruned += len(names)

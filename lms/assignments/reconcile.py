"""Keeping UPLOAD_DIR and the database in step: the sweep of temporary upload files, and `lms check-storage`.

An upload is written to partial/ first and moved under its random name once complete; its row is committed
after that. A process killed mid-upload leaves a file in partial/ (the sweep removes it once it is older than
TEMPORARY_UPLOAD_MAX_AGE_MINUTES, at start-up and periodically); one killed between the move and the commit
leaves a stored file no row names, which check_storage reports and, with fix=True, moves to quarantine/.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask import current_app

from lms.assignments import storage
from lms.assignments.models import FeedbackFile, Submission
from lms.extensions import db

TEMPORARY = "partial"
QUARANTINE = "quarantine"


def _max_age_seconds() -> float:
    return 60.0 * int(current_app.config["TEMPORARY_UPLOAD_MAX_AGE_MINUTES"])


def sweep_temporary_uploads(now: datetime, directory: Path | None = None) -> int:
    """Remove temporary files (unfinished uploads, downloads being built) older than the age limit; younger ones
    may belong to a request still running. Returns how many went."""
    folder = (directory or storage.upload_dir()) / TEMPORARY
    if not folder.is_dir():
        return 0
    oldest_kept = now.timestamp() - _max_age_seconds()
    removed = 0
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < oldest_kept:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # removed by its own request meanwhile
            continue
    return removed


@dataclass
class StorageReport:
    """What check_storage found: stored files no row names, rows whose file is missing, what was quarantined."""

    files_without_row: list[str] = field(default_factory=list)
    rows_without_file: list[str] = field(
        default_factory=list
    )  # "submission 12 (3f...)", "feedback file 4 ..."
    quarantined: list[str] = field(default_factory=list)
    recent_skipped: int = 0  # files too young to judge: an upload may be about to commit its row

    @property
    def clean(self) -> bool:
        return not self.files_without_row and not self.rows_without_file


def _stored_files(directory: Path) -> dict[str, Path]:
    """Every file in the two-letter folders where stored files live (partial/, previews/ and the rest are not)."""
    found: dict[str, Path] = {}
    for sub in directory.iterdir():
        if not (sub.is_dir() and len(sub.name) == 2 and all(c in "0123456789abcdef" for c in sub.name)):
            continue
        for path in sub.iterdir():
            if path.is_file():
                found[path.name] = path
    return found


def check_storage(fix: bool = False, now: datetime | None = None) -> StorageReport:
    """Compare the stored files with the rows naming them. With fix, move each file no row names to quarantine/
    (kept, not deleted: a person decides). Rows whose file is missing can only be reported."""
    directory = storage.upload_dir()
    report = StorageReport()
    on_disk = _stored_files(directory) if directory.is_dir() else {}
    kept: dict[str, str] = {}
    for row_id, name, removed in db.session.execute(
        sa.select(Submission.id, Submission.stored_name, Submission.file_removed_at)
    ):
        if removed is None:
            kept[name] = f"submission {row_id} ({name})"
    for row_id, name in db.session.execute(sa.select(FeedbackFile.id, FeedbackFile.stored_name)):
        kept[name] = f"feedback file {row_id} ({name})"
    db.session.rollback()  # only read; release the snapshot

    report.rows_without_file = sorted(label for name, label in kept.items() if name not in on_disk)
    youngest_judged = (now.timestamp() if now else time.time()) - _max_age_seconds()
    for name, path in sorted(on_disk.items()):
        if name in kept:
            continue
        try:
            if path.stat().st_mtime >= youngest_judged:
                report.recent_skipped += 1
                continue
        except FileNotFoundError:
            continue
        report.files_without_row.append(str(path.relative_to(directory)))
        if fix:
            target = directory / QUARANTINE / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
            report.quarantined.append(str(target.relative_to(directory)))
    return report

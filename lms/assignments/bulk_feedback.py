"""The bulk feedback round trip (Moodle's "upload feedback files as zip"): staff add one feedback file to each
student's folder of the submissions zip, upload the zip back, review which file goes to which submission, and
confirm. Nothing is attached before the confirmation, and nothing is guessed: an entry that matches no version
waiting for a grade in this assignment is reported, with the reason.

A folder is matched by the submission number its name ends with ("Ann Student - submission 12", or "submission
12" under blind marking), as downloads.build_submissions_zip names them. The student's own file, left in its
folder untouched, is recognised by its size and CRC-32 and skipped; an annotated copy under the same name is
feedback. The zip is checked before anything is read from it: no absolute paths or "..", no links, no encrypted
entries, at most MAX_ENTRIES entries and MAX_UNPACKED_BYTES unpacked, and each file is copied with a size cap
whatever its header says."""

from __future__ import annotations

import re
import time
import zipfile
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.assignments import storage
from lms.assignments.anonymity import anonymous_label, hides_in_list, students_with_pending_versions
from lms.assignments.feedback import feedback_refusal, inspect_feedback, record_feedback_file
from lms.assignments.lookups import lock_submission
from lms.assignments.models import Assignment, Submission
from lms.errors import DomainError, NotFound
from lms.extensions import db

MAX_ENTRIES = 2000
MAX_UNPACKED_BYTES = 4 * 1024**3  # what every entry of the zip says it unpacks to, together
STAGED_FOR_SECONDS = 24 * 3600  # an uploaded zip nobody confirmed is removed after this
FOLDER = re.compile(r"(?:^|\s-\s)submission (\d+)$", re.IGNORECASE)
JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
SYMLINK = 0o120000
EOCD_SEARCH = 22 + 65535  # the end-of-central-directory record and the longest comment it may carry


class ZipRefused(DomainError):
    """The uploaded zip is not safe or not a zip: nothing in it is read."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


@dataclass(frozen=True)
class Match:
    submission_id: int
    label: str  # the student's name, or "Submission N" under blind marking
    folder: str
    file_name: str
    size: int


@dataclass(frozen=True)
class Problem:
    where: str  # the entry or folder in the zip
    message: str


@dataclass
class FeedbackReview:
    token: str  # names the staged zip until it is confirmed
    matches: list[Match] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    untouched: list[str] = field(default_factory=list)  # folders holding only the student's own file


def staging_dir() -> Path:
    return storage.upload_dir() / "feedback-zips"


def _zip_limit() -> int:
    return int(current_app.config.get("MAX_CONTENT_LENGTH") or 1024**3)


def _check_entries(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """Every entry, once the zip as a whole is found safe to read (ZipRefused otherwise)."""
    entries = archive.infolist()
    if len(entries) > MAX_ENTRIES:
        raise ZipRefused(f"This zip holds {len(entries)} entries; at most {MAX_ENTRIES} are accepted.")
    unpacked = 0
    for info in entries:
        name = info.filename
        parts = re.split(r"[\\/]", name)
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
            raise ZipRefused(f"The zip entry “{name}” has an absolute path. Zip the folders themselves.")
        if ".." in parts:
            raise ZipRefused(
                f"The zip entry “{name}” points outside the zip (“..”). Zip the folders themselves."
            )
        if (info.external_attr >> 16) & 0o170000 == SYMLINK:
            raise ZipRefused(f"The zip entry “{name}” is a link. Put the files themselves in the zip.")
        if info.flag_bits & 0x1:
            raise ZipRefused("This zip is protected with a password. Upload it without one.")
        unpacked += info.file_size
    if unpacked > MAX_UNPACKED_BYTES:
        raise ZipRefused(
            f"This zip unpacks to {unpacked // 1024**2} MB; at most {MAX_UNPACKED_BYTES // 1024**2} MB "
            "are accepted."
        )
    return entries


def _declared_entries(path: Path) -> int | None:
    """How many entries the zip's end record says it holds, read before zipfile loads them all (a zip of a
    million tiny entries would take that much memory to list). None when there is no end record to read."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - EOCD_SEARCH))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) - at < 22:
        return None
    return int.from_bytes(tail[at + 10 : at + 12], "little")  # 0xFFFF: a ZIP64 count, more than we take


def _check_zip(path: Path) -> None:
    declared = _declared_entries(path)
    if declared is not None and declared > MAX_ENTRIES:
        raise ZipRefused(f"This zip holds {declared} entries; at most {MAX_ENTRIES} are accepted.")
    try:
        with zipfile.ZipFile(path) as archive:
            _check_entries(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError) as exc:
        raise ZipRefused("This file is not a zip archive we can read. Upload the zip you made.") from exc


def _remove_stale_zips(now: float) -> None:
    directory = staging_dir()
    if not directory.is_dir():
        return
    for path in directory.glob("*/*"):
        if path.is_file() and now - path.stat().st_mtime > STAGED_FOR_SECONDS:
            path.unlink(missing_ok=True)


def stage_feedback_zip(assignment: Assignment, stream: IO[bytes]) -> FeedbackReview:
    """Keep the uploaded zip aside (nothing is attached yet) and say what would go where."""
    _remove_stale_zips(time.time())
    stored, _ = storage.store_stream(stream, _zip_limit(), _check_zip, directory=staging_dir())
    try:
        return review_feedback_zip(assignment, stored.name)
    except BaseException:
        storage.delete(stored.name, staging_dir())
        raise


def _staged(token: str) -> Path:
    try:
        path = storage.path_for(token, staging_dir())
    except ValueError as exc:
        raise NotFound("There is no such uploaded zip.") from exc
    if not path.is_file():
        raise DomainError("This upload has expired or was already used. Upload the zip again.")
    return path


def _is_junk(name: str) -> bool:
    parts = [p for p in re.split(r"[\\/]", name) if p]
    base = parts[-1] if parts else ""
    return not parts or "__MACOSX" in parts or base.lower() in JUNK_NAMES or base.startswith("._")


def _stored_crc(submission: Submission) -> int | None:
    path = storage.path_for(submission.stored_name)
    if not path.is_file():
        return None
    crc = 0
    with path.open("rb") as fh:
        while chunk := fh.read(storage.CHUNK):
            crc = zlib.crc32(chunk, crc)
    return crc


@dataclass
class _Plan:
    """What a zip holds for one assignment: per gradable submission, the one entry to attach."""

    review: FeedbackReview
    entries: dict[int, zipfile.ZipInfo] = field(default_factory=dict)


def _plan(assignment: Assignment, archive: zipfile.ZipFile, token: str) -> _Plan:
    plan = _Plan(FeedbackReview(token=token))
    review = plan.review
    folders: dict[str, list[zipfile.ZipInfo]] = defaultdict(list)
    for info in _check_entries(archive):
        if info.is_dir() or _is_junk(info.filename):
            continue
        parts = [p for p in re.split(r"[\\/]", info.filename) if p]
        if len(parts) < 2:
            review.problems.append(Problem(info.filename, "Not in a student's folder: no one to give it to."))
            continue
        folders[parts[-2]].append(info)
    numbers = {name: int(m.group(1)) for name in folders if (m := FOLDER.search(name.strip()))}
    found = {
        s.id: s
        for s in db.session.execute(
            sa.select(Submission)
            .where(Submission.id.in_(set(numbers.values())), Submission.assignment_id == assignment.id)
            .options(selectinload(Submission.user))
        ).scalars()
    }
    pending = students_with_pending_versions(assignment.id)
    for folder, infos in sorted(folders.items()):
        number = numbers.get(folder)
        submission = found.get(number) if number is not None else None
        if submission is None:
            why = (
                f"There is no submission {number} in this assignment."
                if number is not None
                else "The folder's name does not end with a submission number (“… - submission 12”)."
            )
            review.problems.extend(Problem(i.filename, why) for i in infos)
            continue
        same_size = [i for i in infos if i.file_size == submission.size_bytes]
        own_crc = _stored_crc(submission) if same_size else None
        # The student's own file, unchanged, went out in the download: it is not feedback.
        feedback = [i for i in infos if not (i in same_size and own_crc == i.CRC)]
        if not feedback:
            review.untouched.append(folder)
            continue
        refusal = feedback_refusal(submission)
        if refusal is not None:
            review.problems.append(Problem(folder, refusal))
            continue
        if len(feedback) > 1:
            names = ", ".join(f"“{Path(i.filename).name}”" for i in feedback)
            review.problems.append(
                Problem(folder, f"{len(feedback)} files ({names}): keep one feedback file in each folder.")
            )
            continue
        [info] = feedback
        if info.file_size > assignment.max_bytes:
            review.problems.append(
                Problem(info.filename, f"Larger than this assignment accepts ({assignment.max_size_mb} MB).")
            )
            continue
        label = (
            anonymous_label(submission.id)
            if hides_in_list(assignment, submission, pending)
            else submission.user.full_name
        )
        review.matches.append(
            Match(submission.id, label, folder, Path(info.filename.replace("\\", "/")).name, info.file_size)
        )
        plan.entries[submission.id] = info
    return plan


def _store_entry(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int
) -> tuple[storage.StoredFile, str]:
    name = Path(info.filename.replace("\\", "/")).name
    try:
        with archive.open(info) as entry:
            return storage.store_stream(entry, limit, inspect_feedback(name))
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:  # a bad CRC, a cut entry
        raise DomainError("This file is damaged in the zip.") from exc


def review_feedback_zip(assignment: Assignment, token: str) -> FeedbackReview:
    """What the staged zip would attach, and what it cannot (each file is checked as an upload would be)."""
    with zipfile.ZipFile(_staged(token)) as archive:
        plan = _plan(assignment, archive, token)
        for match in list(plan.review.matches):
            try:
                stored, _ = _store_entry(archive, plan.entries[match.submission_id], assignment.max_bytes)
            except DomainError as error:
                plan.review.matches.remove(match)
                plan.review.problems.append(Problem(f"{match.folder}/{match.file_name}", error.message))
            else:
                storage.delete(stored.name)  # only looked at: attached once confirmed
    return plan.review


def apply_feedback_zip(grader: User, assignment: Assignment, token: str, now: datetime) -> FeedbackReview:
    """Attach every file the review matched (each under its submission's lock, in one transaction), then remove
    the staged zip. Returns what was attached and what could not be."""
    path = _staged(token)
    stored_names: list[str] = []
    try:
        with zipfile.ZipFile(path) as archive:
            plan = _plan(assignment, archive, token)
            attached: list[Match] = []
            for match in sorted(plan.review.matches, key=lambda m: m.submission_id):  # one lock order
                submission = lock_submission(match.submission_id)
                refusal = feedback_refusal(submission)
                if refusal is not None:
                    plan.review.problems.append(Problem(match.folder, refusal))
                    continue
                try:
                    stored, file_type = _store_entry(
                        archive, plan.entries[match.submission_id], assignment.max_bytes
                    )
                except DomainError as error:
                    plan.review.problems.append(Problem(f"{match.folder}/{match.file_name}", error.message))
                    continue
                stored_names.append(stored.name)
                record_feedback_file(grader, submission, stored, file_type, match.file_name, "zip", now)
                attached.append(match)
            plan.review.matches = attached
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for name in stored_names:
            storage.delete(name)
        raise
    storage.delete(token, staging_dir())
    return plan.review

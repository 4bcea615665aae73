"""Applying a bulk-enrolment file, and keeping a previewed file on the server until its Apply button is pressed.

Applying re-reads the file (the preview may be minutes old), refuses it as a whole when any row is an error, and
otherwise does every row in one transaction: invitations (through the accounts feature's invite_user, whose
emails leave only if the transaction commits), new cohorts (starting at 00:00 UTC on the day of applying),
enrolments and cohort moves, and one audit event for the file (who, when, its SHA-256 and the counts). A second
run of the same file finds every row already enrolled and changes nothing but that audit trail."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from lms.accounts import operations as accounts
from lms.accounts.models import Role, User
from lms.audit import record_event
from lms.clock import now_utc
from lms.courses import operations as courses
from lms.courses.models import Track
from lms.errors import DomainError
from lms.extensions import db
from lms.gradebook import operations as gradebook
from lms.roster.models import StagedRoster
from lms.roster.parsing import RosterFileError, parse_roster
from lms.roster.planning import CREATE, RosterPreview, file_hash, plan_roster

STAGED_FOR = timedelta(days=1)


@dataclass(frozen=True)
class RosterResult:
    preview: RosterPreview
    applied: bool  # False: the file has error rows (preview.errors) and nothing was written
    created: int = 0  # new accounts, each invited by email
    enrolled: int = 0  # new enrolments and returns to a track left earlier
    cohorts_created: int = 0
    cohort_moves: int = 0  # existing enrolments put in the row's cohort

    @property
    def changed(self) -> int:
        return self.created + self.enrolled + self.cohorts_created + self.cohort_moves


def preview_roster(csv_bytes: bytes, actor: User | None) -> RosterPreview:
    """Every row of the file with what applying it would do; writes nothing. DomainError when the file as a whole
    cannot be read (not UTF-8, no header, too large, too many rows)."""
    try:
        parsed = parse_roster(csv_bytes)
    except RosterFileError as error:
        raise DomainError(str(error), field="file") from error
    return plan_roster(parsed, csv_bytes)


def apply_roster(
    csv_bytes: bytes, actor: User | None, *, now: datetime | None = None, staged_key: str | None = None
) -> RosterResult:
    """Apply the file in one transaction (see the module's docstring) and commit; with `staged_key`, the staged
    preview is removed in the same transaction. A file with any error row is refused whole: the result is not
    applied and lists the rows."""
    now = now or now_utc()
    preview = preview_roster(csv_bytes, actor)
    if not preview.ok:
        return RosterResult(preview, applied=False)
    try:
        result = _apply(preview, actor, now)
        if staged_key is not None:
            db.session.execute(sa.delete(StagedRoster).where(StagedRoster.key == staged_key))
        db.session.commit()
    except IntegrityError as error:  # someone enrolled or created one of these people at this very moment
        db.session.rollback()
        raise DomainError(
            "Some of these accounts or enrolments changed while the file was being applied, so nothing was "
            "applied. Preview the file again."
        ) from error
    except BaseException:
        db.session.rollback()
        raise
    return result


def _apply(preview: RosterPreview, actor: User | None, now: datetime) -> RosterResult:
    users: dict[str, User] = {}
    tracks: dict[int, Track] = {}
    cohorts: dict[tuple[int, str], int] = {}
    created = enrolled = cohorts_created = moves = 0
    # One slow hash for every invitation of the file (not one each: 5,000 scrypt hashes would take minutes).
    unusable = accounts.unusable_password_hash() if preview.counts[CREATE] else None
    for row in preview.rows:
        assert row.track_id is not None  # noqa: S101 (an applied file has no error rows)
        user = users.get(row.email)
        if user is None and row.kind == CREATE:
            user = accounts.invite_user(actor, row.email, row.name, Role.STUDENT, unusable_hash=unusable)
            created += 1
        elif user is None:
            user = db.session.get(User, row.user_id)
        assert user is not None  # noqa: S101
        users[row.email] = user
        track = tracks.get(row.track_id) or db.session.get(Track, row.track_id)
        assert track is not None  # noqa: S101
        tracks[track.id] = track
        cohort_id = row.cohort_id
        if row.cohort and cohort_id is None:
            key = (track.id, row.cohort.lower())
            if key not in cohorts:
                cohorts[key] = gradebook.add_cohort(actor, track, row.cohort, now.date(), now).id
                cohorts_created += 1
            cohort_id = cohorts[key]
        if courses.enroll_on_behalf(actor, user, track, now, cohort_id) is not None:
            enrolled += 1
        elif cohort_id is not None:
            enrollment = courses.find_enrollment(user.id, track.id)
            moves += bool(enrollment and gradebook.place_in_cohort(actor, enrollment, cohort_id))
    result = RosterResult(preview, True, created, enrolled, cohorts_created, moves)
    record_event(
        actor.id if actor is not None else None,
        "roster.applied",
        "roster",
        preview.sha256,
        rows=len(preview.rows),
        created=created,
        enrolled=enrolled,
        already=preview.counts["already enrolled"],
        cohorts_created=cohorts_created,
        cohort_moves=moves,
    )
    return result


def stage_roster(
    actor: User, csv_bytes: bytes, filename: str = "", now: datetime | None = None
) -> StagedRoster:
    """Keep a previewed file for its Apply button (a day at most; older ones are removed here) and commit."""
    now = now or now_utc()
    db.session.execute(sa.delete(StagedRoster).where(StagedRoster.created_at < now - STAGED_FOR))
    staged = StagedRoster(
        key=secrets.token_urlsafe(32),
        actor_id=actor.id,
        sha256=file_hash(csv_bytes),
        filename=(filename or "")[:255],
        content=csv_bytes,
        created_at=now,
    )
    db.session.add(staged)
    db.session.commit()
    return staged


def staged_roster(actor: User, key: str, sha256: str, now: datetime | None = None) -> StagedRoster:
    """The file this admin previewed under `key`, if it still has the SHA-256 the preview showed."""
    now = now or now_utc()
    staged = db.session.scalar(
        sa.select(StagedRoster).where(StagedRoster.key == (key or ""), StagedRoster.actor_id == actor.id)
    )
    if staged is None or staged.created_at < now - STAGED_FOR:
        raise DomainError(
            "This preview is no longer available (it was applied already, or is more than a day old). "
            "Upload the file again."
        )
    if not secrets.compare_digest(staged.sha256, sha256 or "") or file_hash(staged.content) != staged.sha256:
        raise DomainError(
            "The file is not the one previewed (its SHA-256 differs), so nothing was applied. Upload it again "
            "and check the new preview."
        )
    return staged

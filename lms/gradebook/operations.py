"""Cohorts of a track: staff create them and put students in them (due dates may count from their start)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from lms.accounts.models import User
from lms.audit import record_event
from lms.courses.models import Cohort, Enrollment, Track
from lms.errors import DomainError
from lms.extensions import db

MAX_NAME = 100


def track_cohorts(track_id: int) -> list[Cohort]:
    """The track's cohorts, earliest start first (one query)."""
    return list(
        db.session.execute(
            sa.select(Cohort).where(Cohort.track_id == track_id).order_by(Cohort.starts_at, Cohort.name)
        ).scalars()
    )


def create_cohort(staff: User, track: Track, name: str, starts_on: date | None, now: datetime) -> Cohort:
    """A new cohort of the track starting at 00:00 UTC on `starts_on`; names are unique within a track."""
    cohort = add_cohort(staff, track, name, starts_on, now)
    db.session.commit()
    return cohort


def add_cohort(staff: User | None, track: Track, name: str, starts_on: date | None, now: datetime) -> Cohort:
    """As create_cohort, without committing (the caller commits: a bulk enrolment file is one transaction)."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Give the cohort a name.", field="name")
    if len(name) > MAX_NAME:
        raise DomainError(f"Keep the name under {MAX_NAME} characters.", field="name")
    if starts_on is None:
        raise DomainError("Enter the date the cohort starts.", field="starts_on")
    taken = db.session.execute(
        sa.select(Cohort.id).where(Cohort.track_id == track.id, Cohort.name == name)
    ).scalar_one_or_none()
    if taken is not None:
        raise DomainError(f"This track already has a cohort named {name!r}.", field="name")
    cohort = Cohort(
        track_id=track.id,
        name=name,
        starts_at=datetime(starts_on.year, starts_on.month, starts_on.day, tzinfo=UTC),
        created_at=now,
    )
    db.session.add(cohort)
    db.session.flush()
    record_event(
        staff.id if staff is not None else None,
        "cohort.created",
        "cohort",
        cohort.id,
        track_id=track.id,
        name=name,
        starts_at=cohort.starts_at.isoformat(),
    )
    return cohort


def assign_cohort(staff: User, track: Track, user_ids: list[int], cohort_id: int | None) -> int:
    """Put these students of the track in the cohort (None: in no cohort). Returns how many changed."""
    if not user_ids:
        raise DomainError("Choose at least one student.", field="students")
    cohort = None
    if cohort_id is not None:
        cohort = db.session.get(Cohort, cohort_id)
        if cohort is None or cohort.track_id != track.id:
            raise DomainError("Choose one of this track's cohorts.", field="cohort")
    enrollments = list(
        db.session.execute(
            sa.select(Enrollment).where(Enrollment.track_id == track.id, Enrollment.user_id.in_(user_ids))
        ).scalars()
    )
    if len(enrollments) != len(set(user_ids)):
        raise DomainError("Some of the chosen people are not enrolled in this track.", field="students")
    changed = sum(place_in_cohort(staff, enrollment, cohort_id) for enrollment in enrollments)
    db.session.commit()
    return changed


def place_in_cohort(staff: User | None, enrollment: Enrollment, cohort_id: int | None) -> bool:
    """Put one enrolment in the cohort (of its own track: the caller checked), audited, without committing.
    False when it is there already."""
    if enrollment.cohort_id == cohort_id:
        return False
    record_event(
        staff.id if staff is not None else None,
        "cohort.assigned",
        "enrollment",
        enrollment.id,
        user_id=enrollment.user_id,
        track_id=enrollment.track_id,
        old_cohort_id=enrollment.cohort_id,
        new_cohort_id=cohort_id,
    )
    enrollment.cohort_id = cohort_id
    return True

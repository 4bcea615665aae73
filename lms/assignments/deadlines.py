"""Due dates: each student's deadlines (from enrolment or the cohort's start, with extensions and the cut-off),
granting extensions, and the dates in words."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.assignments.models import MAX_REASON, Assignment, Extension
from lms.audit import record_event
from lms.courses.models import Cohort, Enrollment
from lms.errors import DomainError
from lms.extensions import db
from lms.timezones import format_time


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
    """deadlines_for() from the rows the pages already hold."""
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


def active_enrollment(user_id: int, track_id: int) -> Enrollment | None:
    """The student's current enrolment in the track (None when they never enrolled or left)."""
    return db.session.execute(
        sa.select(Enrollment).where(
            Enrollment.user_id == user_id, Enrollment.track_id == track_id, Enrollment.left_at.is_(None)
        )
    ).scalar_one_or_none()


def latest_extension(assignment_id: int, user_id: int) -> Extension | None:
    """The extension granted last: the one in force."""
    return db.session.execute(
        sa.select(Extension)
        .where(Extension.assignment_id == assignment_id, Extension.user_id == user_id)
        .order_by(Extension.granted_at.desc(), Extension.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def student_deadlines(user_id: int, assignment: Assignment) -> Deadlines | None:
    """The student's dates for the assignment; None when they are not enrolled in its track."""
    enrollment = active_enrollment(user_id, assignment.track_id)
    if enrollment is None:
        return None
    return enrollment_deadlines(
        assignment, enrollment, latest_extension(assignment.id, user_id), enrollment.cohort
    )


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

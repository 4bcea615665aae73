"""Enrolment and progress: enrol, leave, complete a lesson, record a visit, and the progress other features read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from lms import events
from lms.accounts.models import STAFF_ROLES, Identity, Reader, User
from lms.accounts.operations import READER_SELECT, read_reader_with
from lms.audit import record_event
from lms.clock import now_utc
from lms.courses.models import Cohort, Enrollment, Lesson, LessonCompletion, Track
from lms.courses.progress import Outline, count_lessons_done, load_outline, load_outlines
from lms.courses.snapshot import TrackRow
from lms.database import labelled_columns
from lms.errors import DomainError, NotFound
from lms.extensions import db


@dataclass(frozen=True)
class TrackProgress:
    done: int  # live lessons completed
    total: int  # live lessons in the track
    percent: int
    complete: bool  # every live lesson of every live module completed


def is_staff(user: Identity) -> bool:
    return user.role_enum in STAFF_ROLES


def track_hidden_from(
    reader: Identity | None, track: Track | TrackRow, enrollment: Enrollment | EnrollmentRow | None
) -> bool:
    """A retired track is shown only to staff and to the students who were enrolled in it."""
    return track.retired_at is not None and enrollment is None and not (reader and is_staff(reader))


def find_track(slug: str) -> Track:
    """The track with this slug, retired or not; NotFound otherwise."""
    track = db.session.scalar(db.select(Track).where(Track.slug == slug))
    if track is None:
        raise NotFound("There is no track at this address.")
    return track


# Built once: every lesson and track page runs it.
_TRACK_AND_ENROLLMENT = (
    sa.select(Track, Enrollment)
    .outerjoin(
        Enrollment, (Enrollment.track_id == Track.id) & (Enrollment.user_id == sa.bindparam("user_id"))
    )
    .where(Track.slug == sa.bindparam("slug"))
)


def find_track_for(slug: str, user_id: int | None) -> tuple[Track, Enrollment | None]:
    """The track with this slug and the user's enrolment row in it (active or left), in one query."""
    if user_id is None:
        return find_track(slug), None
    row = db.session.execute(_TRACK_AND_ENROLLMENT, {"slug": slug, "user_id": user_id}).first()
    if row is None:
        raise NotFound("There is no track at this address.")
    return row[0], row[1]


@dataclass(frozen=True, slots=True)
class EnrollmentRow:
    """A student's enrolment as the lesson page reads it (active or left)."""

    id: int
    left_at: datetime | None
    last_lesson_id: int | None
    last_seen_at: datetime | None

    @property
    def active(self) -> bool:
        return self.left_at is None


@dataclass(frozen=True, slots=True)
class TrackReading:
    """What a reader's lesson page reads: the track, their enrolment row, the ids of the lessons they completed
    in it."""

    track: TrackRow
    enrollment: EnrollmentRow | None
    completed: frozenset[int]


_TRACK_ROW = tuple(TrackRow.__slots__)  # type: ignore[attr-defined]
_ENROLLMENT_ROW = ("id", "left_at", "last_lesson_id", "last_seen_at")
_users, _tracks, _enrollments = User.__table__, Track.__table__, Enrollment.__table__
_completions, _lessons = LessonCompletion.__table__, Lesson.__table__

# Built once: every lesson page runs it. One statement (one round trip) reads who is signed in, the track, their
# enrolment and, as one string of ids ("3,7,12"), the lessons they completed in it. Core rows, not ORM objects:
# this is the busiest signed-in page, and loading three entities costs more than running the statement.
_READER_AND_TRACK = (
    sa.select(
        *READER_SELECT,
        *labelled_columns(Track, _TRACK_ROW),
        *labelled_columns(Enrollment, _ENROLLMENT_ROW),
        sa.select(sa.func.aggregate_strings(sa.cast(_completions.c.lesson_id, sa.String), ","))
        .select_from(_completions.join(_lessons, _lessons.c.id == _completions.c.lesson_id))
        .where(_completions.c.user_id == _users.c.id, _lessons.c.track_id == _tracks.c.id)
        .scalar_subquery(),
    )
    .select_from(
        _users.outerjoin(_tracks, _tracks.c.slug == sa.bindparam("slug")).outerjoin(
            _enrollments, (_enrollments.c.track_id == _tracks.c.id) & (_enrollments.c.user_id == _users.c.id)
        )
    )
    .where(_users.c.id == sa.bindparam("user_id"))
)
_TRACK_END = len(_TRACK_ROW)
_ENROLLMENT_END = _TRACK_END + len(_ENROLLMENT_ROW)


def read_reader_and_track(
    user_id: int, slug: str, session: str | None = None
) -> tuple[Reader, TrackReading | None] | None:
    """The account and its reading of the track with this slug, in one statement outside any transaction (one
    round trip, no session): None when there is no such account, a None reading when there is no such track.
    `session`: the key of the request's server-side session, for Reader.session_live."""
    found = read_reader_with(_READER_AND_TRACK, {"user_id": user_id, "slug": slug}, session)
    if found is None:
        return None
    reader, row = found
    if row[0] is None:
        return reader, None
    track = TrackRow(*row[:_TRACK_END])
    enrollment = EnrollmentRow(*row[_TRACK_END:_ENROLLMENT_END]) if row[_TRACK_END] is not None else None
    completed = row[_ENROLLMENT_END]
    ids = frozenset(int(part) for part in completed.split(",")) if completed else frozenset[int]()
    return reader, TrackReading(track, enrollment, ids)


def find_enrollment(user_id: int, track_id: int) -> Enrollment | None:
    """The user's enrolment row for the track, active or left."""
    return db.session.scalar(
        db.select(Enrollment).where(Enrollment.user_id == user_id, Enrollment.track_id == track_id)
    )


def active_enrollments(user_id: int) -> list[Enrollment]:
    """The tracks the user is enrolled in now, with their track loaded, in catalog order."""
    return list(
        db.session.scalars(
            db.select(Enrollment)
            .join(Track, Track.id == Enrollment.track_id)
            .where(Enrollment.user_id == user_id, Enrollment.left_at.is_(None))
            .options(contains_eager(Enrollment.track))
            .order_by(Track.position, Track.id)
        )
    )


def enroll(user: User, track: Track, at: datetime | None = None) -> Enrollment:
    """Enrol the user, or reopen the enrolment they left (their progress was kept)."""
    at = at or now_utc()
    if track.retired_at is not None:
        raise DomainError(f"{track.title} is no longer offered, so it does not take new enrolments.")
    if user.email_verified_at is None:
        raise DomainError(
            f"Confirm your email address before you enrol: open the link we sent to {user.email}, "
            "or ask for a new one below."
        )
    enrollment = find_enrollment(user.id, track.id)
    if enrollment is not None and enrollment.active:
        raise DomainError(f"You are already enrolled in {track.title}.")
    if enrollment is None:
        enrollment = Enrollment(user_id=user.id, track_id=track.id, enrolled_at=at)
        db.session.add(enrollment)
        action = "course.enrolled"
    else:
        # enrolled_at keeps the first enrolment (deadlines count from it); the audit trail has each return.
        enrollment.left_at = None
        action = "course.reenrolled"
    try:
        db.session.flush()
    except IntegrityError as error:  # the same user enrolling twice at the same moment
        db.session.rollback()
        raise DomainError(f"You are already enrolled in {track.title}.") from error
    record_event(user.id, action, "track", track.id, track=track.slug)
    events.emit(events.Enrolled(user_id=user.id, track_id=track.id))  # a new enrolment, or a return
    db.session.commit()
    return enrollment


def enroll_on_behalf(
    actor: User | None, user: User, track: Track, at: datetime | None = None, cohort_id: int | None = None
) -> Enrollment | None:
    """An admin enrols `user` (a bulk enrolment file, the API), or reopens the enrolment they left: as `enroll`,
    but the address need not be confirmed yet (an invited account confirms it with its invitation's link), the
    audit names the admin, and nothing commits (the caller commits once, so a whole file is one transaction).
    None, changing nothing, when the enrolment is already active."""
    at = at or now_utc()
    if track.retired_at is not None:
        raise DomainError(f"{track.title} is no longer offered, so it does not take new enrolments.")
    enrollment = find_enrollment(user.id, track.id)
    if enrollment is not None and enrollment.active:
        return None
    if enrollment is None:
        enrollment = Enrollment(user_id=user.id, track_id=track.id, enrolled_at=at, cohort_id=cohort_id)
        db.session.add(enrollment)
        action = "course.enrolled"
    else:
        enrollment.left_at = None
        enrollment.cohort_id = cohort_id if cohort_id is not None else enrollment.cohort_id
        action = "course.reenrolled"
    db.session.flush()  # an IntegrityError (enrolled at this very moment) is the caller's: it rolls back
    actor_id = actor.id if actor is not None else None
    record_event(actor_id, action, "track", track.id, track=track.slug, user_id=user.id, cohort_id=cohort_id)
    events.emit(events.Enrolled(user_id=user.id, track_id=track.id))
    return enrollment


def enrol_for(
    actor: User, user: User, track: Track, cohort_id: int | None = None, at: datetime | None = None
) -> Enrollment:
    """Staff (or an API client acting for an admin) enrol someone, optionally into one of the track's cohorts,
    and commit: `enroll_on_behalf` with its refusals said per field. Refused for a retired track, an inactive
    account, a cohort of another track, or an enrolment already active; a left enrolment is reopened."""
    if track.retired_at is not None:
        raise DomainError(
            f"{track.title} is no longer offered, so it does not take new enrolments.", field="track"
        )
    if not user.active:
        raise DomainError("This account is deactivated: reactivate it before enrolling it.", field="user_id")
    if cohort_id is not None:
        cohort = db.session.get(Cohort, cohort_id)
        if cohort is None or cohort.track_id != track.id:
            raise DomainError(f"Choose one of the cohorts of {track.title}.", field="cohort_id")
    already = DomainError(f"{user.full_name} is already enrolled in {track.title}.", field="user_id")
    try:
        enrollment = enroll_on_behalf(actor, user, track, at=at, cohort_id=cohort_id)
    except IntegrityError as error:  # enrolled at this very moment by another request
        db.session.rollback()
        raise already from error
    if enrollment is None:
        raise already
    db.session.commit()
    return enrollment


def leave(user: User, track: Track, at: datetime | None = None) -> Enrollment:
    """Leave a track; the enrolment row and every completion stay, so enrolling again picks up where they were."""
    enrollment = find_enrollment(user.id, track.id)
    if enrollment is None or not enrollment.active:
        raise DomainError(f"You are not enrolled in {track.title}.")
    enrollment.left_at = at or now_utc()
    record_event(user.id, "course.left", "track", track.id, track=track.slug)
    db.session.commit()
    return enrollment


def complete_lesson(user: User, lesson: Lesson, at: datetime | None = None) -> LessonCompletion:
    """Record that the user completed a lesson (once; again is a no-op) and tell listeners progress changed."""
    track = db.session.get(Track, lesson.track_id)
    if track is None:
        raise NotFound("There is no such track.")
    enrollment = find_enrollment(user.id, track.id)
    if enrollment is None or not enrollment.active:
        raise DomainError(f"Enrol in {track.title} to record your progress.")
    existing = db.session.scalar(
        db.select(LessonCompletion).where(
            LessonCompletion.user_id == user.id, LessonCompletion.lesson_id == lesson.id
        )
    )
    if existing is not None:
        return existing
    if lesson.retired_at is not None:
        raise DomainError("This lesson has been retired and can no longer be completed.")
    found = load_outline(user.id, track, staff=is_staff(user)).find(lesson.slug)
    if found is None or found[1].locked:
        opened_by = found[0].opened_by if found else None
        hint = f" It opens when you complete {opened_by.title}." if opened_by else ""
        raise DomainError(f"This lesson is locked.{hint}")
    completion = LessonCompletion(user_id=user.id, lesson_id=lesson.id, completed_at=at or now_utc())
    db.session.add(completion)
    try:
        db.session.flush()
    except IntegrityError:  # a double click: the other request recorded it
        db.session.rollback()
        again = db.session.scalar(
            db.select(LessonCompletion).where(
                LessonCompletion.user_id == user.id, LessonCompletion.lesson_id == lesson.id
            )
        )
        if again is None:
            raise
        return again
    enrollment.last_lesson_id = lesson.id
    enrollment.last_seen_at = completion.completed_at
    # Counted in the database by the live-lesson rule, not one added: a content sync retiring this lesson at the same
    # moment must leave a true count whichever transaction commits first (lms.courses.progress._count_again).
    count_lessons_done(enrollment.id)
    events.emit(events.ProgressChanged(user_id=user.id, track_id=track.id))
    db.session.commit()
    return completion


# Reading the same lesson again within this time writes nothing: the page is read far more often than it changes.
VISIT_RESOLUTION = timedelta(minutes=5)


def record_visit(enrollment: EnrollmentRow, lesson_id: int, at: datetime | None = None) -> None:
    """Remember the lesson a student last opened (for "continue where you left off"), to within five minutes."""
    if not enrollment.active:
        return
    at = at or now_utc()
    seen = enrollment.last_seen_at
    if enrollment.last_lesson_id == lesson_id and seen is not None and at - seen < VISIT_RESOLUTION:
        return
    db.session.execute(
        sa.update(Enrollment)
        .where(Enrollment.id == enrollment.id)
        .values(last_lesson_id=lesson_id, last_seen_at=at)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def track_outline(user: User | None, track: Track) -> Outline:
    """The track as this reader sees it (staff: everything, nothing locked)."""
    return load_outline(user.id if user else None, track, staff=bool(user and is_staff(user)))


def track_progress(user_id: int, track_id: int) -> TrackProgress:
    """How far the student is through the live lessons of a track."""
    track = db.session.get(Track, track_id)
    if track is None:
        raise NotFound("There is no such track.")
    outline = load_outline(user_id, track)
    return TrackProgress(outline.done, outline.total, outline.percent, outline.complete)


def modules_complete(user_id: int, track_id: int) -> bool:
    """Whether every live module's live lessons are completed (the "modules = all" part of a completion rule)."""
    return track_progress(user_id, track_id).complete


def dashboard_outlines(user: User) -> list[tuple[Enrollment, Outline]]:
    """Each track the user is enrolled in, with their outline, in a constant number of queries."""
    enrollments = active_enrollments(user.id)
    outlines = load_outlines(user.id, [enrollment.track for enrollment in enrollments])
    return [(enrollment, outlines[enrollment.track_id]) for enrollment in enrollments]

"""Calibration: before grading a track's work for real, a marker grades its exemplars with the real rubric and sees
how far they agree with the reference levels. An admin may waive it for a marker. Calibration marks are kept
(Mark rows of kind "calibration": who, when, what)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from lms.accounts.models import STAFF_ROLES, User
from lms.assignments.agreement import Kappa, kappa
from lms.assignments.marking_models import CalibrationWaiver, Exemplar, Mark
from lms.assignments.marks import read_rubric
from lms.assignments.models import Assignment, Criterion
from lms.assignments.moderation import mark_of
from lms.audit import record_event
from lms.courses.models import Track
from lms.errors import DomainError, NotFound
from lms.extensions import db

MAX_WAIVER_REASON = 2000


def exemplars_of(track_id: int) -> list[Exemplar]:
    """The live exemplars of a track's live assignments, in their order."""
    return list(
        db.session.execute(
            sa.select(Exemplar)
            .join(Assignment, Assignment.id == Exemplar.assignment_id)
            .where(
                Assignment.track_id == track_id,
                Assignment.retired_at.is_(None),
                Exemplar.retired_at.is_(None),
            )
            .order_by(Exemplar.position, Exemplar.slug)
        ).scalars()
    )


def get_exemplar(exemplar_id: int) -> Exemplar:
    exemplar = db.session.get(Exemplar, exemplar_id)
    if exemplar is None or exemplar.retired_at is not None:
        raise NotFound("There is no such exemplar.")
    return exemplar


def calibration_marks(user_id: int, exemplar_ids: list[int]) -> dict[int, Mark]:
    """The marker's newest calibration mark on each of these exemplars."""
    marks: dict[int, Mark] = {}
    if not exemplar_ids:
        return marks
    for mark in db.session.execute(
        sa.select(Mark)
        .where(Mark.kind == "calibration", Mark.marker_id == user_id, Mark.exemplar_id.in_(exemplar_ids))
        .order_by(Mark.saved_at.asc(), Mark.id.asc())
    ).scalars():
        marks[mark.exemplar_id] = mark  # the newest wins
    return marks


def waiver_for(user_id: int, track_id: int) -> CalibrationWaiver | None:
    return db.session.execute(
        sa.select(CalibrationWaiver).where(
            CalibrationWaiver.user_id == user_id, CalibrationWaiver.track_id == track_id
        )
    ).scalar_one_or_none()


def needs_calibration(user: User, track_id: int) -> bool:
    """Must this marker grade the track's exemplars before its real work? (Not when it has none, when every one
    is graded, or when an admin waived it.)"""
    exemplars = exemplars_of(track_id)
    if not exemplars:
        return False
    marks = calibration_marks(user.id, [e.id for e in exemplars])
    if all(e.id in marks for e in exemplars):
        return False
    return waiver_for(user.id, track_id) is None


def save_calibration_mark(
    marker: User,
    exemplar: Exemplar,
    levels: Mapping[int, str | None],
    comments: Mapping[int, str],
    now: datetime,
) -> Mark:
    """The marker's grade of an exemplar: every criterion needs a level (no decision: it is not real work)."""
    assignment = exemplar.assignment
    choice = read_rubric(assignment, levels, comments, "", None)
    missing = [title for cid, title in _titles(assignment).items() if choice.chosen[cid][0] is None]
    if missing:
        raise DomainError(f"Choose a level for every criterion (still open: {', '.join(missing)}).")
    mark = mark_of("calibration", marker.id, assignment, choice, now, exemplar_id=exemplar.id)
    mark.complete = True
    db.session.add(mark)
    record_event(marker.id, "assignment.calibrated", "exemplar", exemplar.id)
    db.session.commit()
    return mark


def _titles(assignment: Assignment) -> dict[int, str]:
    return {c.id: c.title for c in assignment.active_criteria}


@dataclass(frozen=True)
class CalibrationLine:
    criterion: str
    yours: str | None
    reference: str
    apart: int | None  # levels between yours and the reference


def compare_with_reference(exemplar: Exemplar, mark: Mark) -> list[CalibrationLine]:
    """Per criterion: the marker's level, the reference level and how many levels apart they are."""
    lines = []
    for criterion in exemplar.assignment.active_criteria:
        reference = exemplar.reference.get(criterion.slug)
        if reference is None:
            continue
        yours = mark.level_of(criterion.id)
        a, b = _position(criterion, yours), _position(criterion, reference)
        lines.append(
            CalibrationLine(
                criterion.title, yours, reference, abs(a - b) if a is not None and b is not None else None
            )
        )
    return lines


def _position(criterion: Criterion, name: str | None) -> int | None:
    return next((n for n, level in enumerate(criterion.levels) if level.name == name), None)


def calibration_agreement(user: User, track_id: int) -> list[tuple[str, Kappa, Kappa]]:
    """Per criterion, over the track's exemplars: the marker's agreement with the reference levels (Cohen's kappa
    and quadratic-weighted kappa, with the number of exemplars)."""
    exemplars = exemplars_of(track_id)
    marks = calibration_marks(user.id, [e.id for e in exemplars])
    if not exemplars:
        return []
    result = []
    assignment = exemplars[0].assignment
    for criterion in assignment.active_criteria:
        pairs = []
        for exemplar in exemplars:
            mark = marks.get(exemplar.id)
            if mark is None or exemplar.assignment_id != criterion.assignment_id:
                continue
            a = _position(criterion, mark.level_of(criterion.id))
            b = _position(criterion, exemplar.reference.get(criterion.slug))
            if a is not None and b is not None:
                pairs.append((a, b))
        k = len(criterion.levels)
        result.append((criterion.title, kappa(pairs, k), kappa(pairs, k, "quadratic")))
    return result


def waive_calibration(admin: User, track: Track, user: User, reason: str, now: datetime) -> CalibrationWaiver:
    """Let a marker grade a track's work without calibrating (admins only: the view checks the role)."""
    if not user.is_staff:
        raise DomainError("Only staff mark work: choose an instructor or an admin.", field="user")
    reason = (reason or "").strip()
    if not reason or len(reason) > MAX_WAIVER_REASON:
        raise DomainError(f"Say why (up to {MAX_WAIVER_REASON} characters).", field="reason")
    if waiver_for(user.id, track.id) is not None:
        raise DomainError(f"{user.full_name} is already excused from calibrating on {track.title}.")
    waiver = CalibrationWaiver(
        track_id=track.id, user_id=user.id, reason=reason, waived_by_id=admin.id, waived_at=now
    )
    db.session.add(waiver)
    record_event(admin.id, "assignment.calibration_waived", "user", user.id, track_id=track.id, reason=reason)
    db.session.commit()
    return waiver


def get_track(track_id: int) -> Track:
    track = db.session.get(Track, track_id)
    if track is None:
        raise NotFound("There is no such track.")
    return track


def staff_members() -> list[User]:
    """Everyone who may mark (the waiver form's choices)."""
    return list(
        db.session.execute(
            sa.select(User).where(User.role.in_([r.value for r in STAFF_ROLES])).order_by(User.full_name)
        ).scalars()
    )


def get_staff_member(user_id: int | None) -> User:
    user = db.session.get(User, user_id) if user_id else None
    if user is None or not user.is_staff:
        raise DomainError("Choose an instructor or an admin.", field="user")
    return user

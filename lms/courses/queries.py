"""What the course pages show, each read in a constant number of queries whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from lms.accounts.models import Identity, User
from lms.courses.models import Enrollment, Lesson, Module, Track
from lms.courses.operations import TrackReading, dashboard_outlines, is_staff
from lms.courses.progress import LessonState, ModuleState, Outline, load_outline
from lms.courses.snapshot import LessonInfo
from lms.extensions import db


@dataclass(frozen=True)
class CatalogEntry:
    track: Track
    modules: int
    lessons: int
    minutes: int
    enrolled: bool


def catalog_entries(reader: User | None) -> list[CatalogEntry]:
    """The tracks on offer (retired ones are not), with their size and whether the reader is enrolled."""
    tracks = db.session.scalars(
        db.select(Track).where(Track.retired_at.is_(None)).order_by(Track.position, Track.id)
    )
    module_counts: dict[int, int] = dict(
        db.session.execute(  # type: ignore[arg-type]
            db.select(Module.track_id, sa.func.count(Module.id))
            .where(Module.retired_at.is_(None))
            .group_by(Module.track_id)
        ).all()
    )
    lesson_stats = {
        track_id: (count, minutes)
        for track_id, count, minutes in db.session.execute(
            db.select(
                Lesson.track_id, sa.func.count(Lesson.id), sa.func.coalesce(sa.func.sum(Lesson.minutes), 0)
            )
            .join(Module, Module.id == Lesson.module_id)
            .where(Lesson.retired_at.is_(None), Module.retired_at.is_(None))
            .group_by(Lesson.track_id)
        )
    }
    enrolled: set[int] = set()
    if reader is not None:
        enrolled = set(
            db.session.scalars(
                db.select(Enrollment.track_id).where(
                    Enrollment.user_id == reader.id, Enrollment.left_at.is_(None)
                )
            )
        )
    return [
        CatalogEntry(
            track=track,
            modules=module_counts.get(track.id, 0),
            lessons=lesson_stats.get(track.id, (0, 0))[0],
            minutes=int(lesson_stats.get(track.id, (0, 0))[1]),
            enrolled=track.id in enrolled,
        )
        for track in tracks
    ]


def dashboard_panel(user: User) -> dict[str, Any] | None:
    """The dashboard's courses panel: each enrolled track with its progress and where to continue; students
    without one are pointed to the catalog, staff without one see nothing."""
    items = [
        {
            "enrollment": enrollment,
            "outline": outline,
            "continue": outline.continue_lesson(enrollment.last_lesson_id),
        }
        for enrollment, outline in dashboard_outlines(user)
    ]
    if not items and is_staff(user):
        return None
    return {"items": items}


def modules_by_week(track: Track, outline: Outline) -> list[tuple[int | None, list[ModuleState]]]:
    """Modules grouped by program week for a track run over weeks; one unnamed group otherwise."""
    if not track.program_weeks:
        return [(None, outline.modules)]
    groups: list[tuple[int | None, list[ModuleState]]] = []
    for state in outline.modules:
        if not groups or groups[-1][0] != state.module.week:
            groups.append((state.module.week, []))
        groups[-1][1].append(state)
    return groups


def find_lesson(track: Track, lesson_slug: str) -> Lesson | None:
    return db.session.scalar(db.select(Lesson).where(Lesson.track_id == track.id, Lesson.slug == lesson_slug))


@dataclass
class LessonPage:
    outline: Outline
    module: ModuleState
    state: LessonState
    previous: LessonInfo | None
    next: LessonInfo | None
    enrolled: bool
    staff: bool
    refusal: str | None  # None (read it), "enrol" (not enrolled) or "locked" (its module is not open yet)

    @property
    def lesson(self) -> LessonInfo:
        return self.state.lesson


def lesson_page(reader: Identity, reading: TrackReading, lesson_slug: str) -> LessonPage | None:
    """A lesson as the reader may see it; None when the lesson does not exist for them (unknown, or retired and
    never completed by them). Staff read everything; students read open lessons of tracks they are enrolled in."""
    staff = is_staff(reader)
    track, enrollment = reading.track, reading.enrollment
    outline = load_outline(reader.id, track, staff=staff, completed=reading.completed)
    found = outline.find(lesson_slug)
    if found is None:
        return None
    module, state = found
    enrolled = enrollment is not None and enrollment.active
    refusal = None
    if not staff and not enrolled:
        refusal = "enrol"
    elif state.locked:
        refusal = "locked"
    previous, following = outline.neighbours(lesson_slug)
    return LessonPage(outline, module, state, previous, following, enrolled, staff, refusal)

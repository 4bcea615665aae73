"""A student's view of a track: which lessons they see, what is done, what is locked and what comes next.

`build_outline` is pure (rows in, outline out); `load_outlines` fetches the rows for any number of tracks in a
constant number of queries. The rules:
- Progress counts the lessons that are live: neither the lesson nor its module is retired.
- A retired lesson stays visible (and readable) to a student who completed it, marked as retired; others never
  see it. Staff see everything, retired included, and nothing is locked for them.
- With unlock = "in_order", a module opens when the module before it is complete. A lesson the student already
  completed stays readable even if later content changes lock its module again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field

import sqlalchemy as sa

from lms.courses.models import Enrollment, Lesson, LessonCompletion, Module, Track
from lms.courses.snapshot import LessonInfo, ModuleInfo, TrackRow, track_contents
from lms.extensions import db


@dataclass
class LessonState:
    lesson: LessonInfo
    done: bool
    live: bool  # counts towards progress (neither it nor its module is retired)
    locked: bool = False


@dataclass
class ModuleState:
    module: ModuleInfo
    lessons: list[LessonState] = field(default_factory=list)
    done: int = 0
    total: int = 0
    locked: bool = False
    opened_by: ModuleInfo | None = None  # the module whose completion opens this one

    @property
    def live(self) -> bool:
        return self.module.retired_at is None

    @property
    def complete(self) -> bool:
        return self.done == self.total

    @property
    def percent(self) -> int:
        return percent(self.done, self.total)


@dataclass
class Outline:
    track: Track | TrackRow
    modules: list[ModuleState]
    done: int
    total: int

    @property
    def percent(self) -> int:
        return percent(self.done, self.total)

    @property
    def complete(self) -> bool:
        """Every live lesson of every live module is done (a track with nothing live is not complete)."""
        return self.total > 0 and self.done == self.total

    @property
    def lessons(self) -> list[tuple[ModuleState, LessonState]]:
        return [(module, lesson) for module in self.modules for lesson in module.lessons]

    def find(self, lesson_slug: str) -> tuple[ModuleState, LessonState] | None:
        return next(((m, s) for m, s in self.lessons if s.lesson.slug == lesson_slug), None)

    def neighbours(self, lesson_slug: str) -> tuple[LessonInfo | None, LessonInfo | None]:
        """The previous and next lessons the reader can see, in reading order."""
        sequence = [state.lesson for _, state in self.lessons]
        index = next(i for i, lesson in enumerate(sequence) if lesson.slug == lesson_slug)
        return (
            sequence[index - 1] if index > 0 else None,
            sequence[index + 1] if index + 1 < len(sequence) else None,
        )

    @property
    def next_lesson(self) -> LessonInfo | None:
        """The first live lesson not yet done in an open module."""
        return next((s.lesson for _, s in self.lessons if s.live and not s.done and not s.locked), None)

    def continue_lesson(self, last_lesson_id: int | None) -> LessonInfo | None:
        """Where "continue" takes the student: the next lesson to do, else the last one visited, else the first."""
        if self.next_lesson is not None:
            return self.next_lesson
        visited = next((s.lesson for _, s in self.lessons if s.lesson.id == last_lesson_id), None)
        if visited is not None:
            return visited
        return self.lessons[0][1].lesson if self.lessons else None


def percent(done: int, total: int) -> int:
    return (100 * done) // total if total else 0


def build_outline(
    track: Track | TrackRow,
    modules: Iterable[ModuleInfo],
    lessons: Iterable[LessonInfo],
    completed: Set[int],
    staff: bool = False,
) -> Outline:
    """Arrange one track's rows for one reader (`completed`: the ids of the lessons they completed)."""
    by_module: dict[int, list[LessonInfo]] = defaultdict(list)
    for lesson in sorted(lessons, key=lambda lesson: (lesson.position, lesson.id)):
        by_module[lesson.module_id].append(lesson)
    states: list[ModuleState] = []
    previous_live: ModuleState | None = None
    for module in sorted(modules, key=lambda module: (module.position, module.id)):
        state = ModuleState(module)
        for lesson in by_module[module.id]:
            live = lesson.retired_at is None and module.retired_at is None
            done = lesson.id in completed
            if live or done or staff:
                state.lessons.append(LessonState(lesson, done=done, live=live))
            if live:
                state.total += 1
                state.done += done
        if state.live:
            if (
                track.unlock == "in_order"
                and not staff
                and previous_live is not None
                and not previous_live.complete
            ):
                state.locked = True
                state.opened_by = previous_live.module
            for lesson_state in state.lessons:
                lesson_state.locked = state.locked and not lesson_state.done
            previous_live = state
        if state.live or state.lessons:
            states.append(state)
    return Outline(
        track=track,
        modules=states,
        done=sum(state.done for state in states),
        total=sum(state.total for state in states),
    )


_COMPLETED = (
    sa.select(LessonCompletion.lesson_id)
    .join(Lesson, Lesson.id == LessonCompletion.lesson_id)
    .where(
        LessonCompletion.user_id == sa.bindparam("user_id"),
        Lesson.track_id.in_(sa.bindparam("track_ids", expanding=True)),
    )
)


def load_outlines(
    user_id: int | None,
    tracks: Sequence[Track | TrackRow],
    staff: bool = False,
    completed: Set[int] | None = None,
) -> dict[int, Outline]:
    """Outlines of several tracks for one reader: the content from memory (lms.courses.snapshot), what the reader
    completed in one query (none when the caller read `completed` already), whatever the number of tracks and
    lessons."""
    if not tracks:
        return {}
    contents = track_contents(tracks)
    if completed is None:
        completed = set()
        if user_id is not None:
            track_ids = [track.id for track in tracks]
            completed = set(db.session.scalars(_COMPLETED, {"user_id": user_id, "track_ids": track_ids}))
    return {
        track.id: build_outline(
            track, contents[track.id].modules, contents[track.id].lessons, completed, staff=staff
        )
        for track in tracks
    }


def load_outline(
    user_id: int | None, track: Track | TrackRow, staff: bool = False, completed: Set[int] | None = None
) -> Outline:
    return load_outlines(user_id, [track], staff=staff, completed=completed)[track.id]


def live_lessons_completed(
    user_id: sa.ColumnElement[int], track_id: sa.ColumnElement[int]
) -> sa.ScalarSelect[int]:
    """The live lessons of the track the student completed, counted in the database (the rule of build_outline:
    neither the lesson nor its module retired)."""
    return (
        sa.select(sa.func.count(LessonCompletion.id))
        .join(Lesson, Lesson.id == LessonCompletion.lesson_id)
        .join(Module, Module.id == Lesson.module_id)
        .where(
            LessonCompletion.user_id == user_id,
            Lesson.track_id == track_id,
            Lesson.retired_at.is_(None),
            Module.retired_at.is_(None),
        )
        .scalar_subquery()
    )


def recount_lessons_done(track_ids: Iterable[int]) -> None:
    """Count again Enrollment.lessons_done for every enrolment of these tracks: after their lessons or modules were
    added, retired, brought back or moved, which changes what counts. No commit; enrolments the session holds are
    not refreshed (the caller commits, which expires them)."""
    ids = sorted(set(track_ids))
    if ids:
        _count_again(Enrollment.track_id.in_(ids))


def count_lessons_done(enrollment_id: int) -> None:
    """Count again one enrolment's lessons_done (a lesson was completed), by the live-lesson rule. No commit."""
    _count_again(Enrollment.id == enrollment_id)


def _count_again(which: sa.ColumnElement[bool]) -> None:
    """Set lessons_done of these enrolments to their live lessons completed, counted in the database.

    The rows are locked first and counted by a statement of its own. On PostgreSQL (READ COMMITTED), an UPDATE that
    waits for another transaction's row lock goes on with the snapshot it started with: a recount that waited for a
    completion would miss that completion, and a completion that waited for a sync retiring its lesson would still
    count the lesson. After the lock, the counting statement sees both. The order is that of the writers that
    race: a completion locks its one enrolment after inserting the completion, a sync locks its tracks' enrolments
    (in id order) after changing the lessons, so neither waits for a lock the other is waiting to take."""
    db.session.execute(sa.select(Enrollment.id).where(which).order_by(Enrollment.id).with_for_update())
    db.session.execute(
        sa.update(Enrollment)
        .where(which)
        .values(lessons_done=live_lessons_completed(Enrollment.user_id, Enrollment.track_id)),
        execution_options={"synchronize_session": False},
    )

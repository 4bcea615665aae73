"""Whether a quiz is open to a student in the track's unlock order, and what is still missing if not.

A module quiz opens when its module opens: the courses feature decides that (lms.courses.operations.track_outline,
with the track's unlock rule), and it is read here, never copied. The final exam opens when decide_final_exam says;
that is the one place its rule lives (today: every module of the track complete)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lms.accounts.models import User
from lms.courses.models import Track
from lms.courses.operations import track_outline
from lms.extensions import db
from lms.quizzes.models import Quiz

if TYPE_CHECKING:
    from lms.courses.progress import ModuleState, Outline


@dataclass(frozen=True)
class ModuleToDo:
    """A module the student has still to complete, with how far they are."""

    title: str
    done: int
    total: int


@dataclass(frozen=True)
class Unlock:
    """Whether the quiz is open to the student in the track's order; if not, why, and what is missing."""

    open: bool
    reason: str | None = None
    missing: list[ModuleToDo] = field(default_factory=list)
    track_slug: str = ""


def _to_do(states: list[ModuleState]) -> list[ModuleToDo]:
    return [ModuleToDo(s.module.title, s.done, s.total) for s in states if s.live and not s.complete]


def decide_final_exam(outline: Outline) -> Unlock:
    """The rule for the final exam, in one place: it opens when every module of the track is complete (the courses
    feature's "complete": every live lesson done). Should it become "every module quiz passed", only this changes."""
    if outline.complete:
        return Unlock(True)
    return Unlock(
        False,
        "The final exam opens when you have completed every module of the track.",
        _to_do(outline.modules),
    )


def decide_module_quiz(outline: Outline, module_id: int | None) -> Unlock:
    """A module quiz opens with its module; a module that is not in the outline (retired) keeps its quiz open."""
    position = next((i for i, s in enumerate(outline.modules) if s.module.id == module_id), None)
    if position is None or not outline.modules[position].locked:
        return Unlock(True)
    state = outline.modules[position]
    opener = state.opened_by.title if state.opened_by is not None else "the modules before it"
    return Unlock(
        False,
        f"This quiz opens with its module, {state.module.title}, when you complete {opener}.",
        _to_do(outline.modules[:position]),
    )


def decide_unlock(user: User, quiz: Quiz) -> Unlock:
    """Whether the track's order lets this student start the quiz now, read from their outline of the track."""
    track = db.session.get(Track, quiz.track_id)
    if track is None:
        return Unlock(True)
    outline = track_outline(user, track)
    decided = (
        decide_final_exam(outline) if quiz.kind != "module" else decide_module_quiz(outline, quiz.module_id)
    )
    return Unlock(decided.open, decided.reason, decided.missing, track.slug)

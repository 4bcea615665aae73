"""Whether a quiz is open to a student in the track's unlock order, and what is still missing if not.

A module quiz opens when its module opens: the courses feature decides that (lms.courses.operations.track_outline,
with the track's unlock rule), and it is read here, never copied. The final exam opens when decide_final_exam says;
that is the one place its rule lives (every module of the track complete; with the track's rule `quizzes = "all"`,
every module quiz passed). Another kind of quiz (a "recertification" exam) opens when the feature that owns its
rule says: that feature registers a gate for the kind (open_kind_with), so this module imports none of it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from lms.accounts.models import User
from lms.courses.models import Track
from lms.courses.operations import track_outline
from lms.extensions import db
from lms.quizzes.models import Quiz
from lms.quizzes.reports import module_quizzes_to_pass

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
    quizzes_to_pass: list[str] = field(default_factory=list)  # titles of module quizzes still to pass
    # (words, endpoint, arguments) of the page that says what is missing, for url_for
    link: tuple[str, str, dict[str, str]] | None = None
    # Attempts started before this do not count towards the limit (a recertification exam: each renewal window)
    attempts_since: datetime | None = None


_GATES: dict[str, Callable[[User, Quiz, Track], Unlock]] = {}


def open_kind_with(kind: str, gate: Callable[[User, Quiz, Track], Unlock]) -> None:
    """Let the feature that owns a kind of quiz decide when it opens (certificates: the recertification exam)."""
    _GATES[kind] = gate


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


def decide_final_after_module_quizzes(user_id: int, track: Track) -> Unlock:
    """The final exam of a track whose rule asks for every quiz: it opens once every module quiz is passed."""
    to_pass = [quiz.title for quiz in module_quizzes_to_pass(user_id, track.id)]
    if not to_pass:
        return Unlock(True)
    return Unlock(
        False, "The final exam opens when you have passed every module quiz.", quizzes_to_pass=to_pass
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
    if quiz.kind in _GATES:
        decided = _GATES[quiz.kind](user, quiz, track)
    elif quiz.kind == "module":
        decided = decide_module_quiz(track_outline(user, track), quiz.module_id)
    elif quiz.kind != "final":  # a kind whose owner registered no rule stays closed
        decided = Unlock(False, "This exam is not open to you.")
    elif (track.completion or {}).get("quizzes") == "all":
        decided = decide_final_after_module_quizzes(user.id, track)
    else:
        decided = decide_final_exam(track_outline(user, track))
    return Unlock(
        decided.open,
        decided.reason,
        decided.missing,
        track.slug,
        decided.quizzes_to_pass,
        decided.link,
        decided.attempts_since,
    )

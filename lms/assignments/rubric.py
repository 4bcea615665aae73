"""The rubric a grade was given against: its snapshot, how it differs from today's rubric, and the breakdown
the student reads. Pure: no database, only the rows handed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lms.assignments.models import Assignment, Criterion, Grade


def snapshot_rubric(assignment: Assignment) -> dict[str, Any]:
    """The live criteria of the assignment with their levels and points, as plain data to store with a grade."""
    return {
        "assignment_version": assignment.version,
        "criteria": [
            {
                "id": criterion.id,
                "slug": criterion.slug,
                "title": criterion.title,
                "max_points": criterion.max_points,
                "levels": [{"name": level.name, "points": level.points} for level in criterion.levels],
            }
            for criterion in assignment.active_criteria
        ],
    }


@dataclass(frozen=True)
class RubricDrift:
    """How today's rubric differs from the one a grade was saved against."""

    new: list[str] = field(default_factory=list)  # titles of criteria the grade has no level for
    removed: list[str] = field(default_factory=list)  # titles of criteria graded but no longer in the rubric
    changed: list[str] = field(default_factory=list)  # titles of criteria whose levels or points changed

    @property
    def blocks_release(self) -> bool:
        return bool(self.new or self.removed)

    def refusal(self) -> str:
        """Why the grade cannot be released as it is, naming the criteria."""
        parts = []
        if self.new:
            parts.append(
                f"the rubric has a new criterion since this grade was saved: {_titles(self.new)}. "
                "Choose a level for it"
            )
        if self.removed:
            parts.append(f"{_titles(self.removed)} is no longer in the rubric")
        sentence = " and ".join(parts) + ", save the grade again, then release it."
        return sentence[0].upper() + sentence[1:]


def _titles(titles: list[str]) -> str:
    quoted = [f"“{t}”" for t in titles]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _given_against(grade: Grade, criteria: list[Criterion]) -> dict[int, dict[str, Any]]:
    """The criteria the grade was given against, by id. A grade saved before rubrics were stored with grades
    counts as given against the criteria it holds a level for, with today's levels."""
    if grade.rubric is not None:
        return {int(c["id"]): c for c in grade.rubric.get("criteria", [])}
    by_id = {c.id: c for c in criteria}
    found = {}
    for score in grade.scores:
        criterion = by_id.get(score.criterion_id)
        if score.level_name is not None and criterion is not None:
            found[criterion.id] = {
                "id": criterion.id,
                "title": criterion.title,
                "max_points": criterion.max_points,
                "levels": [{"name": level.name, "points": level.points} for level in criterion.levels],
            }
    return found


def rubric_drift(grade: Grade, assignment: Assignment) -> RubricDrift:
    """What changed in the rubric since the grade was saved (nothing, for a grade that matches it)."""
    given = _given_against(grade, assignment.criteria)
    live = assignment.active_criteria
    live_ids = {c.id for c in live}
    new = [c.title for c in live if c.id not in given]
    removed = [given[cid]["title"] for cid in given if cid not in live_ids]
    changed = [
        c.title
        for c in live
        if c.id in given
        and [(lv.name, lv.points) for lv in c.levels]
        != [(lv["name"], lv["points"]) for lv in given[c.id]["levels"]]
    ]
    return RubricDrift(new=new, removed=removed, changed=changed)


@dataclass(frozen=True)
class BreakdownLine:
    title: str
    level: str
    points: int
    max_points: int
    comment: str


def breakdown(grade: Grade, assignment: Assignment) -> list[BreakdownLine]:
    """The lines the student reads, each with the level, points and maximum the grade was given with."""
    given = _given_against(grade, assignment.criteria)
    lines = []
    for criterion_id, criterion in given.items():
        score = grade.score_for(criterion_id)
        if score is None or score.level_name is None or score.points is None:
            continue
        lines.append(
            BreakdownLine(
                title=criterion["title"],
                level=score.level_name,
                points=score.points,
                max_points=int(criterion["max_points"]),
                comment=score.comment,
            )
        )
    return lines

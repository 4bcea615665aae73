"""Reads for the "Marking agreement" page: per marker and per criterion agreement between first and second marks
(Cohen's kappa and quadratic-weighted kappa with the number of pairs), and the second-marking and moderation
queues of a track."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from lms.accounts.models import User
from lms.assignments.agreement import Kappa, kappa
from lms.assignments.marking_models import Mark, ModerationState, SecondMarking
from lms.assignments.models import Assignment, Criterion, Grade, Submission
from lms.courses.models import Track
from lms.extensions import db


@dataclass(frozen=True)
class Agreement:
    """Unweighted (Cohen's) and quadratic-weighted kappa over the same pairs."""

    plain: Kappa
    weighted: Kappa

    @property
    def n(self) -> int:
        return self.plain.n


@dataclass
class AgreementReport:
    criteria: list[Criterion] = field(default_factory=list)
    by_criterion: dict[int, Agreement] = field(default_factory=dict)
    markers: list[User] = field(default_factory=list)
    by_marker: dict[tuple[int, int], Agreement] = field(default_factory=dict)  # (marker id, criterion id)
    double_marked: int = 0  # versions with two complete marks


@dataclass(frozen=True)
class _Pair:
    first_marker: int | None
    second_marker: int | None
    first: dict[int, int]  # criterion id -> level position
    second: dict[int, int]


def _positions(criteria: list[Criterion], level_of: Any) -> dict[int, int]:
    found = {}
    for criterion in criteria:
        name = level_of(criterion.id)
        position = next((n for n, level in enumerate(criterion.levels) if level.name == name), None)
        if position is not None:
            found[criterion.id] = position
    return found


def _latest_marks(kind: str, submission_ids: list[int]) -> dict[int, Mark]:
    latest: dict[int, Mark] = {}
    if not submission_ids:
        return latest
    for mark in db.session.execute(
        sa.select(Mark)
        .where(Mark.kind == kind, Mark.submission_id.in_(submission_ids))
        .order_by(Mark.saved_at.asc(), Mark.id.asc())
    ).scalars():
        latest[mark.submission_id] = mark
    return latest


def _pairs(assignment: Assignment) -> list[_Pair]:
    """Both marks of every double-marked version of the assignment: the first marker's grade as compared (kept
    as a "first" Mark once a moderator replaced it) and the second marker's."""
    rows = db.session.execute(
        sa.select(SecondMarking, Grade)
        .join(Grade, Grade.submission_id == SecondMarking.submission_id)
        .where(SecondMarking.assignment_id == assignment.id, SecondMarking.selected.is_(True))
        .options(selectinload(Grade.scores))
    ).all()
    ids = [marking.submission_id for marking, _ in rows]
    seconds, firsts = _latest_marks("second", ids), _latest_marks("first", ids)
    criteria = assignment.active_criteria
    pairs = []
    for marking, grade in rows:
        second = seconds.get(marking.submission_id)
        if second is None or not second.complete:
            continue
        kept = firsts.get(marking.submission_id)
        if kept is not None:
            first_marker, first = kept.marker_id, _positions(criteria, kept.level_of)
        elif grade.complete and marking.state_enum is not ModerationState.MODERATED:
            first_marker = grade.grader_id
            first = _positions(criteria, _grade_levels(grade))
        else:
            continue
        pairs.append(_Pair(first_marker, second.marker_id, first, _positions(criteria, second.level_of)))
    return pairs


def _grade_levels(grade: Grade) -> Any:
    def level_of(criterion_id: int) -> str | None:
        score = grade.score_for(criterion_id)
        return score.level_name if score else None

    return level_of


def _agreement(pairs: list[tuple[int, int]], categories: int) -> Agreement:
    return Agreement(kappa(pairs, categories), kappa(pairs, categories, "quadratic"))


def agreement_report(track: Track) -> AgreementReport:
    """Agreement between first and second marks on the track's live assignment (the first with second marking)."""
    assignment = db.session.execute(
        sa.select(Assignment)
        .where(Assignment.track_id == track.id, Assignment.retired_at.is_(None))
        .order_by(Assignment.id)
        .limit(1)
    ).scalar_one_or_none()
    report = AgreementReport()
    if assignment is None:
        return report
    criteria = assignment.active_criteria
    pairs = _pairs(assignment)
    report.criteria = criteria
    report.double_marked = len(pairs)
    marker_ids: set[int] = set()
    for pair in pairs:
        marker_ids.update(m for m in (pair.first_marker, pair.second_marker) if m is not None)
    for criterion in criteria:
        categories = len(criterion.levels)
        both = [p for p in pairs if criterion.id in p.first and criterion.id in p.second]
        report.by_criterion[criterion.id] = _agreement(
            [(p.first[criterion.id], p.second[criterion.id]) for p in both], categories
        )
        for marker_id in marker_ids:
            own = [
                (p.first[criterion.id], p.second[criterion.id])
                if p.first_marker == marker_id
                else (p.second[criterion.id], p.first[criterion.id])
                for p in both
                if marker_id in (p.first_marker, p.second_marker)
            ]
            report.by_marker[(marker_id, criterion.id)] = _agreement(own, categories)
    if marker_ids:
        report.markers = list(
            db.session.execute(
                sa.select(User).where(User.id.in_(marker_ids)).order_by(User.full_name)
            ).scalars()
        )
    return report


def marking_queue(track_id: int, state: ModerationState) -> list[SecondMarking]:
    """The track's versions in this second-marking state, oldest draw first (not yet released)."""
    return list(
        db.session.execute(
            sa.select(SecondMarking)
            .join(Assignment, Assignment.id == SecondMarking.assignment_id)
            .join(Submission, Submission.id == SecondMarking.submission_id)
            .where(Assignment.track_id == track_id, SecondMarking.state == state.value)
            .where(Submission.state.in_(("submitted", "in_grading", "graded")))
            .options(selectinload(SecondMarking.submission))
            .order_by(SecondMarking.drawn_at, SecondMarking.id)
        ).scalars()
    )


def open_marking_counts() -> dict[str, int]:
    """How many versions wait for a second marker, and for a moderator, over every track (the grading queue)."""
    rows = db.session.execute(
        sa.select(SecondMarking.state, sa.func.count())
        .join(Submission, Submission.id == SecondMarking.submission_id)
        .where(
            SecondMarking.state.in_(
                (ModerationState.AWAITING_SECOND.value, ModerationState.AWAITING_MODERATION.value)
            ),
            Submission.state.in_(("submitted", "in_grading", "graded")),
        )
        .group_by(SecondMarking.state)
    ).all()
    return {str(state): int(count) for state, count in rows}

"""The completion rule of a track (from its track.toml) checked for one student, part by part.

The rule reads ``{"modules": "all", "quizzes": ["final"], "assignment": "handbook"}``; each part present must be met.
``"quizzes": "all"`` asks for every live module quiz and the final exam of the track (required_quizzes).
Each part is answered by the feature that owns it (courses, quizzes, assignments) through its public operations:
this module is the one place where certificates ask other features, and tests can replace any one part.
A track without any rule never issues a certificate by itself (staff can still issue one by hand).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from lms.assignments import operations as assignment_operations
from lms.assignments.models import Assignment
from lms.courses import operations as course_operations
from lms.courses.models import Track
from lms.extensions import db
from lms.quizzes import operations as quiz_operations
from lms.quizzes.models import Quiz


def modules_complete(user_id: int, track_id: int) -> bool:
    return bool(course_operations.modules_complete(user_id, track_id))


def has_passed_quiz(user_id: int, quiz_slug: str) -> bool:
    return bool(quiz_operations.has_passed_quiz(user_id, quiz_slug))


def required_quizzes(track: Track, rule: dict[str, object] | None = None) -> list[str]:
    """The slugs of the quizzes a rule asks for (the track's own rule unless given); "all" read as the track is."""
    wanted = (track.completion or {}) if rule is None else rule
    quizzes = wanted.get("quizzes") or []
    if quizzes == "all":
        return list(quiz_operations.assessed_quiz_slugs(track.id))
    return [str(slug) for slug in quizzes]  # type: ignore[attr-defined]


def settled_rule(track: Track) -> dict[str, object]:
    """The track's rule with "all" replaced by the quizzes it means now, as a certificate keeps it: a quiz added
    later asks something of newcomers, not of someone who already holds the certificate."""
    rule = dict(track.completion or {})
    if rule.get("quizzes") == "all":
        rule["quizzes"] = required_quizzes(track)
    return rule


def has_passed_assignment(user_id: int, track_id: int) -> bool:
    return bool(assignment_operations.has_passed_assignment(user_id, track_id))


@dataclass(frozen=True)
class Requirement:
    key: str  # "modules", "quiz:<slug>" or "assignment"
    label: str  # for people: "All modules complete", "Quiz final passed", ...
    met: bool


@dataclass(frozen=True)
class Eligibility:
    requirements: tuple[Requirement, ...]

    @property
    def eligible(self) -> bool:
        return bool(self.requirements) and all(r.met for r in self.requirements)

    @property
    def missing(self) -> list[Requirement]:
        return [r for r in self.requirements if not r.met]


def check_eligibility(user_id: int, track: Track) -> Eligibility:
    """Each part of the track's rule, met or not, for this student."""
    rule = track.completion or {}
    parts: list[Requirement] = []
    if rule.get("modules") == "all":
        parts.append(Requirement("modules", "All modules complete", modules_complete(user_id, track.id)))
    slugs = required_quizzes(track)
    titles = quiz_titles(track.id, slugs)
    for slug in slugs:
        label = f"Quiz “{titles.get(slug) or slug}” passed"
        parts.append(Requirement(f"quiz:{slug}", label, has_passed_quiz(user_id, slug)))
    if rule.get("assignment"):
        label = f"Assignment “{rule['assignment']}” passed"
        parts.append(Requirement("assignment", label, has_passed_assignment(user_id, track.id)))
    return Eligibility(tuple(parts))


def assessed_work_title(track: Track) -> str | None:
    """The title of the assignment the rule names (the assessed handbook), for what the certificate certifies."""
    slug = (track.completion or {}).get("assignment")
    if not slug:
        return None
    return live_assignment_title(track, str(slug)) or humanized(str(slug))


def live_assignment_title(track: Track, slug: str) -> str | None:
    """The title of the track's assignment with this slug, or None when it is retired (or was never loaded)."""

    title = db.session.execute(
        db.select(Assignment.title)
        .where(Assignment.track_id == track.id, Assignment.slug == slug, Assignment.retired_at.is_(None))
        .limit(1)
    ).scalar_one_or_none()
    return str(title) if title else None


def assignment_retired(track: Track, slug: str) -> bool:
    """Whether the track's assignment with this slug was retired (and none with the slug is live)."""

    retired = db.session.execute(
        db.select(sa.func.min(sa.case((Assignment.retired_at.is_(None), 0), else_=1))).where(
            Assignment.track_id == track.id, Assignment.slug == slug
        )
    ).scalar_one_or_none()
    return retired == 1


def is_eligible(user_id: int, track: Track) -> bool:
    """Whether every part of the rule is met, stopping at the first part that is not (fewer queries)."""
    rule = track.completion or {}
    checks = []
    if rule.get("modules") == "all":
        checks.append(lambda: modules_complete(user_id, track.id))
    if rule.get("assignment"):
        checks.append(lambda: has_passed_assignment(user_id, track.id))
    for slug in required_quizzes(track):
        checks.append(lambda slug=slug: has_passed_quiz(user_id, slug))
    return bool(checks) and all(check() for check in checks)


def quiz_titles(track_id: int, slugs: list[str]) -> dict[str, str]:
    """The titles of the track's quizzes with these slugs (a slug without a quiz row is left out)."""

    if not slugs:
        return {}
    rows = db.session.execute(
        db.select(Quiz.slug, Quiz.title).where(Quiz.track_id == track_id, Quiz.slug.in_(slugs))
    )
    return {str(row.slug): str(row.title) for row in rows}


def humanized(slug: str) -> str:
    """A slug put in words, for when no title is known ("campaign-check" -> "Campaign check")."""
    return slug.replace("-", " ").replace("_", " ").strip().capitalize()


def basis_failures(user_id: int, track: Track, rule: dict[str, object] | None) -> list[str]:
    """The parts of the completion rule that issued a certificate which no longer hold, in words (empty: it holds).

    Only what the holder did can be withdrawn: a released passing grade (withdrawn, or released again below the
    pass) and a quiz's counting attempt (re-scored below the pass). Lesson completions are never taken back, and
    a change to the track (a lesson added or retired, a new rule) changes what the track asks of newcomers, not
    what the holder did: `rule` is the rule as it stood when the certificate was issued, and modules are not
    re-checked.
    """
    rule = rule if rule is not None else (track.completion or {})
    failures: list[str] = []
    slugs = required_quizzes(track, rule)
    failing = [slug for slug in slugs if not has_passed_quiz(user_id, slug)]
    titles = quiz_titles(track.id, failing)
    failures += [f"the quiz “{titles.get(slug) or humanized(slug)}” is no longer passed" for slug in failing]
    slug = str(rule.get("assignment") or "")
    if slug and not has_passed_assignment(user_id, track.id) and not assignment_retired(track, slug):
        work = live_assignment_title(track, slug) or humanized(slug)
        failures.append(f"the assignment “{work}” no longer has a released passing grade")
    return failures

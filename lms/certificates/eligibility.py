"""The completion rule of a track (from its track.toml) checked for one student, part by part.

The rule reads ``{"modules": "all", "quizzes": ["final"], "assignment": "handbook"}``; each part present must be met.
Each part is answered by the feature that owns it (courses, quizzes, assignments), imported inside the function
so this module needs none of them to be importable, and tests can replace any one part.
A track without any rule never issues a certificate by itself (staff can still issue one by hand).
"""

from __future__ import annotations

from dataclasses import dataclass

from lms.courses.models import Track


def modules_complete(user_id: int, track_id: int) -> bool:
    from lms.courses.operations import modules_complete as courses_modules_complete

    return bool(courses_modules_complete(user_id, track_id))


def has_passed_quiz(user_id: int, quiz_slug: str) -> bool:
    from lms.quizzes.operations import has_passed_quiz as quizzes_has_passed_quiz

    return bool(quizzes_has_passed_quiz(user_id, quiz_slug))


def has_passed_assignment(user_id: int, track_id: int) -> bool:
    from lms.assignments.operations import has_passed_assignment as assignments_has_passed

    return bool(assignments_has_passed(user_id, track_id))


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
    for slug in rule.get("quizzes") or []:
        parts.append(Requirement(f"quiz:{slug}", f"Quiz “{slug}” passed", has_passed_quiz(user_id, slug)))
    if rule.get("assignment"):
        label = f"Assignment “{rule['assignment']}” passed"
        parts.append(Requirement("assignment", label, has_passed_assignment(user_id, track.id)))
    return Eligibility(tuple(parts))


def assessed_work_title(track: Track) -> str | None:
    """The title of the assignment the rule names (the assessed handbook), for what the certificate certifies."""
    from lms.assignments.models import Assignment
    from lms.extensions import db

    slug = (track.completion or {}).get("assignment")
    if not slug:
        return None
    title = db.session.execute(
        db.select(Assignment.title)
        .where(Assignment.track_id == track.id, Assignment.slug == slug, Assignment.retired_at.is_(None))
        .limit(1)
    ).scalar_one_or_none()
    return str(title) if title else str(slug).replace("-", " ").replace("_", " ").capitalize()


def is_eligible(user_id: int, track: Track) -> bool:
    """Whether every part of the rule is met, stopping at the first part that is not (fewer queries)."""
    rule = track.completion or {}
    checks = []
    if rule.get("modules") == "all":
        checks.append(lambda: modules_complete(user_id, track.id))
    if rule.get("assignment"):
        checks.append(lambda: has_passed_assignment(user_id, track.id))
    for slug in rule.get("quizzes") or []:
        checks.append(lambda slug=slug: has_passed_quiz(user_id, slug))
    return bool(checks) and all(check() for check in checks)

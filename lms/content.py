"""Content as files: the registry of checkers and loaders behind `lms check-content` and `lms sync-content`.

Each feature registers a `ContentKind`: `check` reads its files and reports every problem at once (file and line);
`sync` writes the checked content to the database. Kinds run in registration order, so a later kind (quizzes) can
use what an earlier one (courses) found, through the shared `ContentSet`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Change:
    """One item's fate in a sync: created, updated, unchanged or retired."""

    kind: str  # "track", "module", "lesson", "quiz", ...
    key: str  # a readable identity: "social-media-strategist/why-strategies-fail"
    action: str  # "created" | "updated" | "unchanged" | "retired"

    def __str__(self) -> str:
        return f"{self.action:<9} {self.kind:<10} {self.key}"


@dataclass
class ContentSet:
    """What the checkers parsed, handed from one kind to the next and then to the loaders."""

    courses_dir: Path
    quizzes_dir: Path
    parsed: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def relative(self, path: Path) -> str:
        for root in (self.courses_dir.parent, self.quizzes_dir.parent):
            try:
                return str(path.resolve().relative_to(root.resolve()))
            except ValueError:
                continue
        return str(path)

    def problem(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(self.relative(path), max(line, 1), message))


@dataclass(frozen=True)
class ContentKind:
    name: str
    check: Callable[[ContentSet], None]  # parses files into content.parsed[name], reports problems
    sync: Callable[[ContentSet], list[Change]]  # writes parsed content with db.session (no commit)


CONTENT_KINDS: list[ContentKind] = []


def register_content_kind(kind: ContentKind) -> None:
    if all(existing.name != kind.name for existing in CONTENT_KINDS):
        CONTENT_KINDS.append(kind)


def check_content(courses_dir: Path, quizzes_dir: Path) -> ContentSet:
    """Parse and validate every kind of content; problems are collected, never raised."""
    content = ContentSet(courses_dir=courses_dir, quizzes_dir=quizzes_dir)
    for kind in CONTENT_KINDS:
        kind.check(content)
    content.problems.sort()
    return content


class ContentInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the content")
        self.problems = problems


def sync_content(courses_dir: Path, quizzes_dir: Path) -> list[Change]:
    """Check, then load everything in one transaction; a failing check writes nothing."""
    from lms.extensions import db

    content = check_content(courses_dir, quizzes_dir)
    if content.problems:
        raise ContentInvalid(content.problems)
    changes: list[Change] = []
    try:
        for kind in CONTENT_KINDS:
            changes.extend(kind.sync(content))
        if any(change.action != "unchanged" for change in changes):
            db.session.commit()
        else:
            db.session.rollback()
    except Exception:
        db.session.rollback()
        raise
    return changes

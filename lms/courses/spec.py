"""The parsed shape of courses/ (what the courses checker leaves in ContentSet.parsed["courses"]).

Other features read it: quizzes check that their track and module exist; assignments read each track's
[assignment] table from the same track.toml (the courses checker leaves that table to them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class LessonSpec:
    slug: str
    path: Path
    title: str
    order: int
    minutes: int
    summary: str
    markdown: str  # the body, without front matter
    module: str = ""  # the slug of the module that lists it
    body_line: int = 1  # the file's line where `markdown` starts (for reporting)
    line_of: dict[str, int] = field(default_factory=dict)  # front matter key -> line number in the file


@dataclass
class ModuleSpec:
    slug: str
    title: str
    summary: str
    week: int | None
    position: int
    lessons: list[LessonSpec] = field(default_factory=list)  # in reading order (by `order`)
    line: int = 1  # the line of its `[[modules]]` header in track.toml


@dataclass
class TrackSpec:
    slug: str
    path: Path  # the track.toml file
    title: str
    summary: str
    certifies: str
    validity_months: int
    unlock: str
    program_weeks: int | None
    completion: dict[str, Any]
    modules: list[ModuleSpec] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # the whole parsed track.toml ([assignment] included)
    line_of: dict[str, int] = field(default_factory=dict)  # top-level key -> line number in track.toml

    def module(self, slug: str) -> ModuleSpec | None:
        return next((m for m in self.modules if m.slug == slug), None)

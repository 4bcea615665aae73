"""The [assignment] table of each track.toml: checked with file and line, then synced to Assignment rows."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app, has_app_context
from sqlalchemy.orm import selectinload

from lms.assignments.models import DUE_FROM, FILE_TYPES, Assignment, Criterion, CriterionLevel
from lms.clock import now_utc
from lms.content import Change, ContentKind, ContentSet, toml_line
from lms.courses.loader import track_key_lines
from lms.courses.models import Track
from lms.extensions import db
from lms.markdown import render_markdown

KIND = "assignments"
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
ASSIGNMENT_KEYS = {
    "slug", "title", "brief", "due_days", "due_from", "cutoff_days", "formats", "max_size_mb", "blind_marking",
    "pass_percent", "no_missing_criterion", "criteria", "second_marking", "moderation_points", "moderation_levels",
}  # fmt: skip
CRITERION_KEYS = {"slug", "title", "levels"}
LEVEL_KEYS = {"name", "points", "descriptor"}
DEFAULT_MAX_SIZE_MB = 25
DEFAULT_MODERATION_POINTS = 2  # two marks more than this many points apart on the total go to a moderator
DEFAULT_MODERATION_LEVELS = 1  # ... or more than this many levels apart on any one criterion
SECOND_MARKING_DEFAULTS = {
    "second_marking": 0.0,
    "moderation_points": DEFAULT_MODERATION_POINTS,
    "moderation_levels": DEFAULT_MODERATION_LEVELS,
}
# A numbered list of bold section titles in the brief ("1. **Goal and purpose**: ..."): one criterion each.
BRIEF_SECTION = re.compile(r"^\s{0,3}\d+[.)]\s+\*\*(.+?)\*\*", re.M)


@dataclass
class LevelSpec:
    name: str
    points: int
    descriptor: str


@dataclass
class CriterionSpec:
    slug: str
    title: str
    levels: list[LevelSpec] = field(default_factory=list)


@dataclass
class AssignmentSpec:
    track_slug: str
    path: Path  # the track.toml
    slug: str
    title: str
    brief_path: Path
    brief_markdown: str
    due_days: int
    cutoff_days: int | None
    formats: list[str]
    max_size_mb: int
    blind_marking: bool
    pass_percent: int
    no_missing_criterion: bool
    criteria: list[CriterionSpec] = field(default_factory=list)
    due_from: str = "enrolment"
    second_marking: float = 0.0
    moderation_points: int = DEFAULT_MODERATION_POINTS
    moderation_levels: int = DEFAULT_MODERATION_LEVELS

    @property
    def key(self) -> str:
        return f"{self.track_slug}/{self.slug}"

    def source_hash(self) -> str:
        data = asdict(self)
        data["path"] = data["brief_path"] = ""
        if data["due_from"] == "enrolment":
            del data["due_from"]  # the default: assignments synced before due_from existed keep their hash
        for key, default in SECOND_MARKING_DEFAULTS.items():
            if data[key] == default:
                del data[key]  # likewise for assignments synced before second marking existed
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def content_kind() -> ContentKind:
    return ContentKind(KIND, check_assignments, sync_assignments)


# ---- checking ----------------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _stem(title: str) -> str:
    words = re.findall(r"[a-z]+", title.lower())
    return words[0][:4] if words else ""


def _site_limit_mb() -> int | None:
    if not has_app_context():
        return None
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    return limit // (1024 * 1024) if limit else None


def check_assignments(content: ContentSet) -> None:
    """Validate every track's [assignment] table; leave AssignmentSpecs in content.parsed["assignments"]."""
    found: dict[str, AssignmentSpec] = {}
    for track in (content.parsed.get("courses") or {}).values():
        spec = check_track_assignment(content, track.slug, Path(track.path), track.raw, track.line_of)
        if spec is not None:
            found[track.slug] = spec
    content.parsed[KIND] = found


def check_track_assignment(
    content: ContentSet,
    track_slug: str,
    path: Path,
    raw: dict[str, Any],
    lines: Mapping[str, int] | None = None,
) -> AssignmentSpec | None:
    """Check one track's [assignment] table. `raw` and `lines` are the track.toml as the courses checker parsed
    it (TrackSpec.raw and .line_of, whose array items give each rubric level's line); a caller without that
    reading (checking one file on its own) leaves `lines` out, and the file's lines are read here."""
    if lines is None:
        lines = track_key_lines(path.read_text(encoding="utf-8") if path.exists() else "")
    table = raw.get("assignment")
    wanted = (
        (raw.get("completion") or {}).get("assignment") if isinstance(raw.get("completion"), dict) else None
    )
    if table is None:
        if wanted:
            content.problem(
                path,
                toml_line(lines, "completion.assignment"),
                f"[completion] requires assignment {wanted!r} but the track has no [assignment] table",
            )
            return None
        return None
    problems_before = len(content.problems)

    def problem(key: str | None, message: str, line: int | None = None) -> None:
        content.problem(path, line or toml_line(lines, f"assignment.{key}" if key else "assignment"), message)

    if not isinstance(table, dict):
        problem(None, "[assignment] must be a table")
        return None
    for key in sorted(set(table) - ASSIGNMENT_KEYS):
        problem(key, f"unknown key {key!r} in [assignment] (known: {', '.join(sorted(ASSIGNMENT_KEYS))})")

    slug = table.get("slug")
    if not isinstance(slug, str) or not SLUG.match(slug):
        problem("slug", '[assignment] slug must be lower case letters, digits and hyphens, like "handbook"')
    if wanted and slug != wanted:
        problem("slug", f"[completion] requires assignment {wanted!r} but this assignment's slug is {slug!r}")
    title = _text(table.get("title"))
    if title is None:
        problem("title", "[assignment] needs a title")

    brief_markdown = ""
    brief_path = path.parent
    brief = table.get("brief")
    if not isinstance(brief, str) or not brief.strip():
        problem("brief", '[assignment] brief must name the brief\'s Markdown file, like "assignment.md"')
    else:
        brief_path = (path.parent / brief).resolve()
        if not brief_path.is_relative_to(path.parent.resolve()) or brief_path.suffix != ".md":
            problem("brief", f"the brief {brief!r} must be a .md file inside the track's folder")
        elif not brief_path.is_file():
            problem("brief", f"the brief file {brief!r} does not exist next to track.toml")
        else:
            brief_markdown = brief_path.read_text(encoding="utf-8")
            if not brief_markdown.strip():
                problem("brief", f"the brief file {brief!r} is empty")

    due_days = table.get("due_days")
    if not _is_int(due_days) or due_days <= 0:
        problem("due_days", "due_days must be a whole number of days after enrolment, greater than 0")
    due_from = table.get("due_from", "enrolment")
    if due_from not in DUE_FROM:
        problem(
            "due_from",
            f"due_from must be {' or '.join(map(repr, DUE_FROM))} (what due_days count from), not {due_from!r}",
        )
    cutoff_days = table.get("cutoff_days")
    if cutoff_days is not None and (not _is_int(cutoff_days) or cutoff_days < 0):
        problem("cutoff_days", "cutoff_days must be a whole number of days after the due date (0 or more)")

    formats = table.get("formats")
    if not isinstance(formats, list) or not formats or not all(isinstance(f, str) for f in formats):
        problem("formats", f"formats must be a non-empty list drawn from {', '.join(FILE_TYPES)}")
        formats = []
    else:
        unknown = [f for f in formats if f not in FILE_TYPES]
        if unknown:
            problem(
                "formats",
                f"unknown format(s) {', '.join(map(repr, unknown))}; known: {', '.join(FILE_TYPES)}",
            )
        if len(set(formats)) != len(formats):
            problem("formats", "formats lists a format twice")

    max_size_mb = table.get("max_size_mb", DEFAULT_MAX_SIZE_MB)
    site_mb = _site_limit_mb()
    if not _is_int(max_size_mb) or max_size_mb <= 0:
        problem("max_size_mb", "max_size_mb must be a whole number of megabytes greater than 0")
    elif site_mb is not None and max_size_mb > site_mb:
        problem(
            "max_size_mb",
            f"max_size_mb is {max_size_mb} but the site accepts at most {site_mb} MB "
            "per upload (LMS_MAX_UPLOAD_MB)",
        )

    for key in ("blind_marking", "no_missing_criterion"):
        if key in table and not isinstance(table[key], bool):
            problem(key, f"{key} must be true or false")
    pass_percent = table.get("pass_percent")
    if not _is_int(pass_percent) or not 0 <= pass_percent <= 100:
        problem("pass_percent", "pass_percent must be a whole number from 0 to 100")

    second_marking = table.get("second_marking", 0.0)
    if (
        isinstance(second_marking, bool)
        or not isinstance(second_marking, int | float)
        or not (0 <= second_marking <= 1)
    ):
        problem(
            "second_marking",
            "second_marking must be the share of versions a second marker grades, from 0 to 1 (0.2 for 20 %)",
        )
    tolerance = {}
    for key, default, unit in (
        ("moderation_points", DEFAULT_MODERATION_POINTS, "points on the total"),
        ("moderation_levels", DEFAULT_MODERATION_LEVELS, "levels on one criterion"),
    ):
        tolerance[key] = table.get(key, default)
        if not _is_int(tolerance[key]) or tolerance[key] < 0:
            problem(
                key, f"{key} must be a whole number of {unit}, 0 or more (marks further apart are moderated)"
            )

    criteria = _check_criteria(table.get("criteria"), lines, problem)
    if criteria and brief_markdown:
        _check_sections_match(brief_markdown, str(brief), criteria, lines, problem)

    if len(content.problems) > problems_before:
        return None
    return AssignmentSpec(
        track_slug=track_slug,
        path=path,
        slug=slug,
        title=title or "",
        brief_path=brief_path,
        brief_markdown=brief_markdown,
        due_days=due_days,
        cutoff_days=cutoff_days,
        formats=list(formats),
        max_size_mb=max_size_mb,
        blind_marking=bool(table.get("blind_marking", False)),
        pass_percent=pass_percent,
        no_missing_criterion=bool(table.get("no_missing_criterion", False)),
        criteria=criteria,
        due_from=due_from,
        second_marking=float(second_marking),
        moderation_points=tolerance["moderation_points"],
        moderation_levels=tolerance["moderation_levels"],
    )


def _check_criteria(raw: Any, lines: Mapping[str, int], problem: Any) -> list[CriterionSpec]:
    if not isinstance(raw, list) or not raw:
        problem(None, "the assignment needs a rubric: at least one [[assignment.criteria]] table")
        return []
    criteria: list[CriterionSpec] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        block = f"assignment.criteria.{index}"
        number = f"criterion {index + 1}"
        if not isinstance(item, dict):
            problem(None, f"{number} must be a table", toml_line(lines, block))
            continue
        for key in sorted(set(item) - CRITERION_KEYS):
            problem(None, f"unknown key {key!r} in {number}", toml_line(lines, f"{block}.{key}"))
        slug = item.get("slug")
        if not isinstance(slug, str) or not SLUG.match(slug):
            problem(
                None,
                f"{number}: slug must be lower case letters, digits and hyphens",
                toml_line(lines, f"{block}.slug"),
            )
            slug = ""
        elif slug in seen:
            problem(
                None,
                f"{number}: the slug {slug!r} is used by another criterion",
                toml_line(lines, f"{block}.slug"),
            )
        seen.add(slug)
        name = slug or number
        title = _text(item.get("title"))
        if title is None:
            problem(None, f"criterion {name!r} needs a title", toml_line(lines, f"{block}.title"))
        levels = _check_levels(item.get("levels"), name, block, lines, problem)
        criteria.append(CriterionSpec(slug=slug, title=title or "", levels=levels))
    return criteria


def _check_levels(raw: Any, name: str, block: str, lines: Mapping[str, int], problem: Any) -> list[LevelSpec]:
    if not isinstance(raw, list) or len(raw) < 2:
        problem(
            None,
            f"criterion {name!r} needs at least two levels (for example missing, weak, sound, excellent)",
            toml_line(lines, f"{block}.levels"),
        )
        return []
    levels: list[LevelSpec] = []
    names: set[str] = set()
    for index, item in enumerate(raw):
        line = toml_line(lines, f"{block}.levels.{index}")
        where = f"criterion {name!r}, level {index + 1}"
        if not isinstance(item, dict):
            problem(None, f"{where} must be an inline table {{ name, points, descriptor }}", line)
            continue
        for key in sorted(set(item) - LEVEL_KEYS):
            problem(None, f"{where}: unknown key {key!r}", line)
        level_name = _text(item.get("name"))
        points = item.get("points")
        descriptor = _text(item.get("descriptor"))
        if level_name is None:
            problem(None, f"{where} needs a name", line)
        elif level_name in names:
            problem(None, f"{where}: the name {level_name!r} is used twice", line)
        if not _is_int(points) or points < 0:
            problem(None, f"{where}: points must be a whole number, 0 or more", line)
        if descriptor is None:
            problem(None, f"{where} needs a descriptor saying what work at this level looks like", line)
        if level_name is None or not _is_int(points) or points < 0 or descriptor is None:
            continue
        if levels and points <= levels[-1].points:
            problem(None, f"{where}: levels go from lowest to highest, so points must increase", line)
        names.add(level_name)
        levels.append(LevelSpec(level_name, points, descriptor))
    return levels


def _check_sections_match(
    brief: str, brief_name: str, criteria: list[CriterionSpec], lines: Mapping[str, int], problem: Any
) -> None:
    """Where the brief numbers its sections, the rubric has one criterion per section, in the same order."""
    sections = [s.strip().rstrip(".:") for s in BRIEF_SECTION.findall(brief)]
    if len(sections) < 2:
        return
    if len(sections) != len(criteria):
        problem(
            None,
            f"the brief {brief_name} lists {len(sections)} sections but the rubric has "
            f"{len(criteria)} criteria: give each section one criterion",
            toml_line(lines, "assignment.criteria.0"),
        )
        return
    for index, (section, criterion) in enumerate(zip(sections, criteria, strict=True)):
        if criterion.title and _stem(section) != _stem(criterion.title):
            problem(
                None,
                f"criterion {index + 1} ({criterion.title!r}) does not match section {index + 1} of "
                f"the brief ({section!r}): keep the rubric in the brief's order",
                toml_line(lines, f"assignment.criteria.{index}.title"),
            )


# ---- syncing -----------------------------------------------------------------------------------------------


def render_brief(text: str) -> str:
    """The brief's Markdown to HTML under lms.markdown's policy. Raw HTML is removed (what the policy allows of
    it stays), and numbered lists keep their first number (sane_lists)."""
    return render_markdown(text, raw_html="remove", extra_extensions=("sane_lists",))


def sync_assignments(content: ContentSet) -> list[Change]:
    """Create or update each checked assignment and its rubric; retire the ones no longer in any track.toml."""
    specs: dict[str, AssignmentSpec] = content.parsed.get(KIND) or {}
    now = now_utc()
    tracks = {t.slug: t for t in db.session.execute(sa.select(Track)).scalars()}
    existing = {
        (a.track_id, a.slug): a
        for a in db.session.execute(
            sa.select(Assignment).options(selectinload(Assignment.criteria).selectinload(Criterion.levels))
        ).scalars()
    }
    changes: list[Change] = []
    kept: set[int] = set()
    for spec in specs.values():
        track = tracks.get(spec.track_slug)
        if (
            track is None
        ):  # the courses loader syncs tracks first; without the track there is nothing to attach to
            continue
        digest = spec.source_hash()
        assignment = existing.get((track.id, spec.slug))
        if assignment is None:
            assignment = Assignment(track_id=track.id, slug=spec.slug, created_at=now, version=1)
            db.session.add(assignment)
            _apply(assignment, spec, digest, now)
            changes.append(Change("assignment", spec.key, "created"))
        elif assignment.source_hash == digest and assignment.retired_at is None:
            changes.append(Change("assignment", spec.key, "unchanged"))
        else:
            assignment.version += 1
            _apply(assignment, spec, digest, now)
            changes.append(Change("assignment", spec.key, "updated"))
        db.session.flush()
        kept.add(assignment.id)
    slugs = {t.id: t.slug for t in tracks.values()}
    for assignment in existing.values():
        if assignment.id not in kept and assignment.retired_at is None:
            assignment.retired_at = now
            changes.append(
                Change("assignment", f"{slugs.get(assignment.track_id, '?')}/{assignment.slug}", "retired")
            )
    return changes


def _apply(assignment: Assignment, spec: AssignmentSpec, digest: str, now: Any) -> None:
    assignment.title = spec.title
    assignment.brief_html = render_brief(spec.brief_markdown)
    assignment.due_days = spec.due_days
    assignment.cutoff_days = spec.cutoff_days
    assignment.due_from = spec.due_from
    assignment.formats = list(spec.formats)
    assignment.max_size_mb = spec.max_size_mb
    assignment.blind_marking = spec.blind_marking
    assignment.pass_percent = spec.pass_percent
    assignment.no_missing_criterion = spec.no_missing_criterion
    assignment.second_marking = spec.second_marking
    assignment.moderation_points = spec.moderation_points
    assignment.moderation_levels = spec.moderation_levels
    assignment.source_hash = digest
    assignment.retired_at = None
    assignment.updated_at = now
    by_slug = {c.slug: c for c in assignment.criteria}
    wanted = {c.slug for c in spec.criteria}
    for position, criterion_spec in enumerate(spec.criteria):
        criterion = by_slug.get(criterion_spec.slug)
        if criterion is None:
            criterion = Criterion(slug=criterion_spec.slug)
            assignment.criteria.append(criterion)
        criterion.title = criterion_spec.title
        criterion.position = position
        criterion.retired_at = None
        _apply_levels(criterion, criterion_spec.levels)
    for criterion in assignment.criteria:
        if criterion.slug not in wanted and criterion.retired_at is None:
            criterion.retired_at = now  # kept: released grades still point at it


def _apply_levels(criterion: Criterion, levels: list[LevelSpec]) -> None:
    current = list(criterion.levels)
    for position, level_spec in enumerate(levels):
        if position < len(current):
            level = current[position]
        else:
            level = CriterionLevel(position=position)
            criterion.levels.append(level)
        level.name, level.points, level.descriptor = level_spec.name, level_spec.points, level_spec.descriptor
    for level in current[len(levels) :]:
        criterion.levels.remove(level)  # scores copy name and points, so nothing points at a level row

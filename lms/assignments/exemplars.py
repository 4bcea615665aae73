"""Exemplars: reference submissions in courses/<track>/exemplars/*.md, each with the level it deserves on every
criterion of the track's rubric. Checked with file and line, then synced to Exemplar rows (markers calibrate on
them: lms.assignments.calibration).

An exemplar is Markdown with TOML front matter between "+++" lines:

    +++
    title = "Corner bakery handbook (excerpt)"
    order = 1
    rationale = "Why the reference levels are what they are (shown to markers after they grade it)."

    [levels]                  # one entry per criterion slug of the rubric: the reference level's name
    goal-and-purpose = "sound"
    +++
    The submission's text ...
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from lms.assignments.loader import KIND as ASSIGNMENTS
from lms.assignments.loader import SLUG, AssignmentSpec, render_brief
from lms.assignments.marking_models import Exemplar
from lms.assignments.models import Assignment
from lms.clock import now_utc
from lms.content import Change, ContentKind, ContentSet, read_front_matter, toml_line
from lms.courses.models import Track
from lms.extensions import db

KIND = "exemplars"
KEYS = {"title", "order", "rationale", "levels"}
FOLDER = "exemplars"


@dataclass
class ExemplarSpec:
    track_slug: str
    assignment_slug: str
    slug: str
    title: str
    order: int
    rationale: str
    markdown: str
    levels: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.track_slug}/{self.slug}"

    def source_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.__dict__, sort_keys=True).encode()).hexdigest()


def content_kind() -> ContentKind:
    return ContentKind(KIND, check_exemplars, sync_exemplars)


def check_exemplars(content: ContentSet) -> None:
    """Check every track's exemplars against its rubric; leave ExemplarSpecs in content.parsed["exemplars"]."""
    found: list[ExemplarSpec] = []
    specs: dict[str, AssignmentSpec] = content.parsed.get(ASSIGNMENTS) or {}
    for track in (content.parsed.get("courses") or {}).values():
        folder = Path(track.path).parent / FOLDER
        if not folder.is_dir():
            continue
        files = sorted(folder.glob("*.md"))
        assignment = specs.get(track.slug)
        if assignment is None:
            if files:
                content.problem(files[0], 1, "exemplars need the track's [assignment] with a valid rubric")
            continue
        for path in files:
            spec = _check_one(content, path, track.slug, assignment)
            if spec is not None:
                found.append(spec)
    content.parsed[KIND] = found


def _check_one(
    content: ContentSet, path: Path, track_slug: str, assignment: AssignmentSpec
) -> ExemplarSpec | None:
    text = path.read_text(encoding="utf-8")
    before = len(content.problems)
    front = read_front_matter(
        content, path, text, 'an exemplar starts with a "+++" line, then title, order and [levels]'
    )
    if front is None:
        return None
    data, key_lines, lines, end = front.data, front.key_lines, front.lines, front.body_index - 1

    def problem(key: str, message: str) -> None:
        content.problem(path, toml_line(key_lines, key), message)

    for key in sorted(set(data) - KEYS):
        problem(key, f"unknown key {key!r} in the front matter (known: {', '.join(sorted(KEYS))})")
    if not SLUG.match(path.stem):
        content.problem(path, 1, f"the file name {path.name!r} is not a valid slug: lower-case letters, digits "
                        "and hyphens, ending in .md")  # fmt: skip
    title = data.get("title")
    if not isinstance(title, str) or not title.strip():
        problem("title", "an exemplar needs a title")
    order = data.get("order", 0)
    if not isinstance(order, int) or isinstance(order, bool) or order < 0:
        problem("order", "order must be a whole number, 0 or more")
    rationale = data.get("rationale", "")
    if not isinstance(rationale, str):
        problem("rationale", "rationale must be text")
    body = "\n".join(lines[end + 1 :])
    if not body.strip():
        content.problem(path, end + 2, "the exemplar has no text after its front matter")
    levels = _check_levels(data.get("levels"), assignment, problem)
    if len(content.problems) > before:
        return None
    return ExemplarSpec(
        track_slug=track_slug,
        assignment_slug=assignment.slug,
        slug=path.stem,
        title=title.strip(),
        order=order,
        rationale=rationale.strip(),
        markdown=body,
        levels=levels,
    )


def _check_levels(raw: Any, assignment: AssignmentSpec, problem: Any) -> dict[str, str]:
    if not isinstance(raw, dict):
        problem(
            "levels", "the front matter needs a [levels] table: each criterion slug = its reference level"
        )
        return {}
    criteria = {c.slug: c for c in assignment.criteria}
    for slug in raw:
        if slug not in criteria:
            problem(
                f"levels.{slug}", f"{slug!r} is not a criterion of the rubric (known: {', '.join(criteria)})"
            )
    for slug, criterion in criteria.items():
        if slug not in raw:
            problem("levels", f"[levels] gives no reference level for the criterion {slug!r}")
            continue
        names = [level.name for level in criterion.levels]
        if raw[slug] not in names:
            problem(f"levels.{slug}", f"{slug} = {raw[slug]!r} is not one of its levels ({', '.join(names)})")
    return {slug: str(raw[slug]) for slug in criteria if slug in raw}


def sync_exemplars(content: ContentSet) -> list[Change]:
    """Create or update each checked exemplar; retire the ones whose file is gone."""
    specs: list[ExemplarSpec] = content.parsed.get(KIND) or []
    now = now_utc()
    assignments = {
        (track_slug, slug): assignment_id
        for track_slug, slug, assignment_id in db.session.execute(
            sa.select(Track.slug, Assignment.slug, Assignment.id).join(Track, Track.id == Assignment.track_id)
        )
    }
    existing = {(e.assignment_id, e.slug): e for e in db.session.execute(sa.select(Exemplar)).scalars()}
    changes: list[Change] = []
    kept: set[int] = set()
    for spec in specs:
        assignment_id = assignments.get((spec.track_slug, spec.assignment_slug))
        if assignment_id is None:
            continue
        digest = spec.source_hash()
        exemplar = existing.get((assignment_id, spec.slug))
        if exemplar is not None and exemplar.source_hash == digest and exemplar.retired_at is None:
            changes.append(Change("exemplar", spec.key, "unchanged"))
        else:
            action = "updated" if exemplar is not None else "created"
            if exemplar is None:
                exemplar = Exemplar(assignment_id=assignment_id, slug=spec.slug)
                db.session.add(exemplar)
            exemplar.title = spec.title
            exemplar.position = spec.order
            exemplar.body_html = render_brief(spec.markdown)
            exemplar.reference = dict(spec.levels)
            exemplar.rationale = spec.rationale
            exemplar.source_hash = digest
            exemplar.retired_at = None
            changes.append(Change("exemplar", spec.key, action))
        db.session.flush()
        kept.add(exemplar.id)
    for exemplar in existing.values():
        if exemplar.id not in kept and exemplar.retired_at is None:
            exemplar.retired_at = now
            changes.append(Change("exemplar", exemplar.slug, "retired"))
    return changes

"""Loading checked course content into the database: tracks, modules and lessons, by digest, never deleting
(what left the files is retired). Runs only on content that `lms.courses.loader.check` passed."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import defer

from lms.clock import now_utc
from lms.content import Change, ContentSet
from lms.courses.models import Lesson, Module, Track
from lms.courses.progress import recount_lessons_done
from lms.courses.rendering import RENDER_VERSION, render_lesson
from lms.courses.spec import LessonSpec, ModuleSpec, TrackSpec
from lms.extensions import db


def _digest(payload: dict[str, Any]) -> str:
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _track_values(spec: TrackSpec, position: int) -> dict[str, Any]:
    return {
        "title": spec.title,
        "summary": spec.summary,
        "certifies": spec.certifies,
        "validity_months": spec.validity_months,
        "unlock": spec.unlock,
        "program_weeks": spec.program_weeks,
        "completion": spec.completion,
        "position": position,
    }


def _module_values(spec: ModuleSpec) -> dict[str, Any]:
    return {"title": spec.title, "summary": spec.summary, "week": spec.week, "position": spec.position}


def _lesson_source(spec: LessonSpec, position: int) -> dict[str, Any]:
    return {
        "module": spec.module,
        "title": spec.title,
        "summary": spec.summary,
        "minutes": spec.minutes,
        "position": position,
        "markdown": spec.markdown,
        "render_version": RENDER_VERSION,
    }


def _apply(row: Any, values: Callable[[], dict[str, Any]], digest: str, now: Any) -> str:
    """Bring an existing row up to date; nothing is written when it already matches its source."""
    if row.source_hash == digest and row.retired_at is None:
        return "unchanged"
    for key, value in values().items():
        setattr(row, key, value)
    row.source_hash = digest
    row.retired_at = None
    if hasattr(row, "updated_at"):
        row.updated_at = now
    return "updated"


def _how_it_counts(lesson: Lesson) -> tuple[bool, int]:
    """What decides whether a completed lesson counts in lessons_done: live or retired, and its module (which may
    be retired)."""
    return lesson.retired_at is None, lesson.module_id


def sync(content: ContentSet) -> list[Change]:
    """Write the checked tracks, modules and lessons (no commit); retire what left the files, never delete."""
    specs: dict[str, TrackSpec] = content.parsed.get("courses", {})
    now = now_utc()
    changes: list[Change] = []
    tracks = {track.slug: track for track in db.session.scalars(db.select(Track))}
    modules = {(module.track_id, module.slug): module for module in db.session.scalars(db.select(Module))}
    lessons = {
        (lesson.track_id, lesson.slug): lesson
        for lesson in db.session.scalars(db.select(Lesson).options(defer(Lesson.body_html)))
    }

    current_tracks: list[tuple[TrackSpec, Track]] = []
    for position, slug in enumerate(sorted(specs)):
        spec = specs[slug]
        values = _track_values(spec, position)
        digest = _digest(values)
        track = tracks.get(slug)
        if track is None:
            track = Track(slug=slug, source_hash=digest, created_at=now, updated_at=now, **values)
            db.session.add(track)
            action = "created"
        else:
            action = _apply(track, lambda values=values: values, digest, now)
        changes.append(Change("track", slug, action))
        current_tracks.append((spec, track))
    db.session.flush()

    current_modules: dict[tuple[int, str], Module] = {}
    # Tracks whose completed lessons may count differently (retired, brought back, moved to another module): their
    # enrolments' lessons_done is counted again. A new lesson changes no count: nobody has completed it yet.
    recount: set[int] = set()
    for spec, track in current_tracks:
        for module_spec in spec.modules:
            values = _module_values(module_spec)
            digest = _digest(values)
            module = modules.get((track.id, module_spec.slug))
            if module is None:
                module = Module(track_id=track.id, slug=module_spec.slug, source_hash=digest, **values)
                db.session.add(module)
                action = "created"
            else:
                was_retired = module.retired_at is not None
                action = _apply(module, lambda values=values: values, digest, now)
                if was_retired:  # brought back: its lessons count again
                    recount.add(track.id)
            changes.append(Change("module", f"{spec.slug}/{module_spec.slug}", action))
            current_modules[(track.id, module_spec.slug)] = module
    db.session.flush()

    current_lessons: set[tuple[int, str]] = set()
    for spec, track in current_tracks:
        for module_spec in spec.modules:
            module = current_modules[(track.id, module_spec.slug)]
            for position, lesson_spec in enumerate(module_spec.lessons):
                source = _lesson_source(lesson_spec, position)
                digest = _digest(source)

                def lesson_values(lesson_spec: LessonSpec = lesson_spec, position: int = position,
                                  module: Module = module) -> dict[str, Any]:  # fmt: skip
                    return {
                        "module_id": module.id,
                        "title": lesson_spec.title,
                        "summary": lesson_spec.summary,
                        "minutes": lesson_spec.minutes,
                        "position": position,
                        "body_html": render_lesson(lesson_spec.markdown),
                    }

                lesson = lessons.get((track.id, lesson_spec.slug))
                if lesson is None:
                    db.session.add(
                        Lesson(track_id=track.id, slug=lesson_spec.slug, source_hash=digest, updated_at=now,
                               **lesson_values())
                    )  # fmt: skip
                    action = "created"
                else:
                    counted_as = _how_it_counts(lesson)
                    action = _apply(lesson, lesson_values, digest, now)
                    if _how_it_counts(lesson) != counted_as:  # back, or in another module
                        recount.add(track.id)
                changes.append(Change("lesson", f"{spec.slug}/{lesson_spec.slug}", action))
                current_lessons.add((track.id, lesson_spec.slug))

    track_slugs = {track.id: slug for slug, track in tracks.items()}
    for slug, track in sorted(tracks.items()):
        if slug not in specs and track.retired_at is None:
            track.retired_at = now
            changes.append(Change("track", slug, "retired"))
    for key, module in sorted(modules.items()):
        if key not in current_modules and module.retired_at is None:
            module.retired_at = now
            recount.add(module.track_id)
            changes.append(Change("module", f"{track_slugs[module.track_id]}/{module.slug}", "retired"))
    for key, lesson in sorted(lessons.items()):
        if key not in current_lessons and lesson.retired_at is None:
            lesson.retired_at = now
            recount.add(lesson.track_id)
            changes.append(Change("lesson", f"{track_slugs[lesson.track_id]}/{lesson.slug}", "retired"))
    db.session.flush()
    recount_lessons_done(recount)
    return changes

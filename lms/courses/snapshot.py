"""A track's modules and lessons kept in memory per process, read again only when the track's content changes.

Every change to a module or lesson row raises Track.content_version in the same transaction, whoever makes it (a
sync, raw SQL, a data migration; database triggers, lms.courses.triggers). Every request reads the track row
anyway, so it compares the version it finds with the one kept here and reads the modules and lessons again only
when they differ: other processes and other hosts see a change at their next request. What students did (completions, enrolments) is never
kept here; it is read at every request.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import Flask, current_app

from lms.courses.models import Lesson, Module, Track
from lms.extensions import db


@dataclass(frozen=True, slots=True)
class TrackRow:
    """The columns of a track that its lesson pages show and decide by, read with the reader at every request."""

    id: int
    slug: str
    title: str
    unlock: str
    retired_at: datetime | None
    content_version: int


@dataclass(frozen=True, slots=True)
class ModuleInfo:
    id: int
    track_id: int
    slug: str
    title: str
    summary: str
    week: int | None
    position: int
    retired_at: datetime | None


@dataclass(frozen=True, slots=True)
class LessonInfo:
    id: int
    track_id: int
    module_id: int
    slug: str
    title: str
    summary: str
    position: int
    minutes: int
    retired_at: datetime | None
    updated_at: datetime
    body_html: str


@dataclass(frozen=True, slots=True)
class TrackContent:
    track_id: int
    version: int
    modules: tuple[ModuleInfo, ...]
    lessons: tuple[LessonInfo, ...]


_MODULE_COLUMNS = [getattr(Module, name) for name in ModuleInfo.__slots__]
_LESSON_COLUMNS = [getattr(Lesson, name) for name in LessonInfo.__slots__]
_MODULES = sa.select(*_MODULE_COLUMNS).where(Module.track_id.in_(sa.bindparam("track_ids", expanding=True)))
_LESSONS = sa.select(*_LESSON_COLUMNS).where(Lesson.track_id.in_(sa.bindparam("track_ids", expanding=True)))


class ContentCache:
    """The newest TrackContent per track id seen by this process (one app: one database)."""

    def __init__(self) -> None:
        self._kept: dict[int, TrackContent] = {}
        self._lock = threading.Lock()

    def get(self, track_id: int, version: int) -> TrackContent | None:
        kept = self._kept.get(track_id)
        return kept if kept is not None and kept.version == version else None

    def put(self, content: TrackContent) -> None:
        with self._lock:
            kept = self._kept.get(content.track_id)
            if kept is None or kept.version <= content.version:
                self._kept[content.track_id] = content

    def clear(self) -> None:
        """Forget everything (the database was replaced: tests do this between tests)."""
        with self._lock:
            self._kept.clear()


def install_content_cache(app: Flask) -> ContentCache:
    cache = ContentCache()
    app.extensions["lms_track_content"] = cache
    return cache


def content_cache_of(app: Flask) -> ContentCache:
    return app.extensions["lms_track_content"]  # type: ignore[no-any-return]


def track_contents(tracks: Sequence[Track | TrackRow]) -> dict[int, TrackContent]:
    """The content of each track at the version its row says, from memory or (for the others) in two queries."""
    cache = content_cache_of(current_app)
    found: dict[int, TrackContent] = {}
    missing: dict[int, int] = {}
    for track in tracks:
        kept = cache.get(track.id, track.content_version)
        if kept is not None:
            found[track.id] = kept
        else:
            missing[track.id] = track.content_version
    if missing:
        for content in _read_contents(missing):
            cache.put(content)
            found[content.track_id] = content
    return found


def _read_contents(versions: dict[int, int]) -> list[TrackContent]:
    ids = sorted(versions)
    modules: dict[int, list[ModuleInfo]] = {track_id: [] for track_id in ids}
    lessons: dict[int, list[LessonInfo]] = {track_id: [] for track_id in ids}
    for row in db.session.execute(_MODULES, {"track_ids": ids}):
        modules[row.track_id].append(ModuleInfo(*row))
    for row in db.session.execute(_LESSONS, {"track_ids": ids}):
        lessons[row.track_id].append(LessonInfo(*row))
    return [
        TrackContent(track_id, versions[track_id], tuple(modules[track_id]), tuple(lessons[track_id]))
        for track_id in ids
    ]

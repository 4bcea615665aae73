"""A track's modules and lessons are kept in memory per process and read again when the track's content version
changes: every change to a module or lesson raises it, and a page after a change shows the change."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.clock import now_utc
from lms.courses import operations
from lms.courses.models import Lesson, Module, Track
from lms.courses.snapshot import ContentCache, TrackContent, content_cache_of
from lms.extensions import db
from tests.fixtures.courses.samples import enrol_directly, lesson_by_slug, make_track
from tests.support import recorded_statements


@pytest.fixture
def track() -> Track:
    return make_track("sample", modules=2, lessons_per_module=2, unlock="free")


def content_reads(statements: list[str]) -> list[str]:
    """The statements that read modules or lessons as content (not the completions join)."""
    return [s for s in statements if s.startswith("SELECT") and ("FROM modules" in s or "FROM lessons" in s)]


def version_of(track_id: int) -> int:
    return db.session.execute(sa.select(Track.content_version).where(Track.id == track_id)).scalar_one()


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_lesson_pages_read_the_content_once_per_version(app, client, login, student, track):
    enrol_directly(student.id, track)
    login(client, student)
    with recorded_statements(one_line=True) as statements:
        assert "Body of lesson 1.1." in page(client, "/tracks/sample/lessons/m1-l1")
        assert len(content_reads(statements)) == 2  # modules and lessons, once
        statements.clear()
        assert "Body of lesson 1.2." in page(client, "/tracks/sample/lessons/m1-l2")
        assert "Lesson 2.1" in page(client, "/tracks/sample")
        assert content_reads(statements) == []


def test_a_changed_lesson_shows_at_the_next_request(app, client, login, student, track):
    enrol_directly(student.id, track)
    login(client, student)
    assert "Body of lesson 1.1." in page(client, "/tracks/sample/lessons/m1-l1")
    before = version_of(track.id)
    lesson = lesson_by_slug(track, "m1-l1")
    lesson.title = "Lesson one, rewritten"
    lesson.body_html = "<p>A new body.</p>"
    db.session.commit()
    assert version_of(track.id) == before + 1
    shown = page(client, "/tracks/sample/lessons/m1-l1")
    assert "A new body." in shown and "Lesson one, rewritten" in shown
    assert "Body of lesson 1.1." not in shown


def test_a_retired_lesson_leaves_the_outline_at_the_next_request(app, client, login, student, track):
    enrol_directly(student.id, track)
    login(client, student)
    assert "Lesson 2.2" in page(client, "/tracks/sample")
    lesson_by_slug(track, "m2-l2").retired_at = now_utc()
    db.session.commit()
    assert "Lesson 2.2" not in page(client, "/tracks/sample")
    assert operations.track_progress(student.id, track.id).total == 3


def test_module_changes_raise_the_version_and_progress_does_not(app, student, track):
    start = version_of(track.id)
    db.session.add(Module(track_id=track.id, slug="m3", title="Module 3", position=3, source_hash="s"))
    db.session.commit()
    assert version_of(track.id) == start + 1
    module = db.session.scalar(sa.select(Module).where(Module.slug == "m1", Module.track_id == track.id))
    module.title = "Module one"
    db.session.commit()
    assert version_of(track.id) == start + 2
    enrol_directly(student.id, track)
    operations.complete_lesson(student, lesson_by_slug(track, "m1-l1"))
    assert version_of(track.id) == start + 2  # a student's progress is not content
    other = make_track("other")
    other_start = version_of(other.id)
    db.session.delete(
        db.session.scalar(sa.select(Lesson).where(Lesson.slug == "m1-l1", Lesson.track_id == other.id))
    )
    db.session.commit()
    assert version_of(other.id) == other_start + 1
    assert version_of(track.id) == start + 2  # only the track whose lesson went


def test_the_cache_keeps_the_newest_version_per_track(app):
    cache = content_cache_of(app)
    assert isinstance(cache, ContentCache)
    newer, older = TrackContent(1, 3, (), ()), TrackContent(1, 2, (), ())
    cache.put(newer)
    cache.put(older)  # a slow reader of an older version does not replace a newer one
    assert cache.get(1, 3) is newer and cache.get(1, 2) is None
    cache.clear()
    assert cache.get(1, 3) is None

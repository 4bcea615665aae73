"""The real tracks in courses/ and quizzes/: they load, and a student finds every module's quiz and the final."""

from __future__ import annotations

import sqlalchemy as sa

from lms import PROJECT_ROOT
from lms.content import sync_content
from lms.courses.models import Lesson, Module, Track
from lms.extensions import db
from lms.quizzes.models import Quiz

COURSES, QUIZZES = PROJECT_ROOT / "courses", PROJECT_ROOT / "quizzes"


def test_both_tracks_load_and_each_module_shows_its_quiz(client, login, student):
    changes = sync_content(COURSES, QUIZZES)
    assert {c.action for c in changes} == {"created"}
    tracks = {t.slug: t for t in db.session.execute(sa.select(Track)).scalars()}
    assert set(tracks) == {"social-media-strategist", "social-media-manager"}
    for track in tracks.values():
        modules = db.session.execute(sa.select(Module).where(Module.track_id == track.id)).scalars().all()
        assert len(modules) >= 6
        for module in modules:
            count = sa.select(sa.func.count()).select_from(Lesson).where(Lesson.module_id == module.id)
            assert db.session.scalar(count) >= 2, module.slug

    strategist = tracks["social-media-strategist"]
    quizzes = db.session.execute(sa.select(Quiz).where(Quiz.track_id == strategist.id)).scalars().all()
    page = client.get("/tracks/social-media-strategist").get_data(as_text=True)
    # A recertification exam renews the certificate: the track page never lists it with the quizzes that earn it.
    assert {q.kind for q in quizzes} == {"module", "final", "recertification"}
    listed = [q for q in quizzes if q.kind != "recertification"]
    for quiz in quizzes:
        assert (f'href="/quizzes/{quiz.slug}"' in page) == (quiz in listed), quiz.slug
    assert page.index('href="/quizzes/strategist-final"') > page.rindex("module-card")
    assert 'href="/assignments/social-media-strategist/handbook"' in page
    assert "Graded against a rubric of 11 criteria" in page

    login(client, student)
    client.post("/tracks/social-media-strategist/enroll")
    enrolled = client.get("/tracks/social-media-strategist").get_data(as_text=True)
    assert enrolled.count(">Not started<") == len(listed)


def test_a_second_sync_of_the_real_content_changes_nothing(app):
    sync_content(COURSES, QUIZZES)
    again = sync_content(COURSES, QUIZZES)
    assert again and {c.action for c in again} == {"unchanged"}

"""Quizzes follow the track's unlock order: a module quiz opens when its module opens (the courses feature's rule),
the final exam when every module is complete; until then the overview says what is missing and starting is refused
with a 4xx, creating nothing."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.courses.models import Track
from lms.extensions import db
from lms.quizzes import operations
from lms.quizzes.models import Attempt
from tests.test_quiz_attempts import at, start
from tests.test_quiz_support import (
    add_lessons,
    complete_lessons,
    enrol,
    load_quizzes,
    make_track,
    quiz_by_slug,
    quiz_toml,
)


@pytest.fixture
def track(app, tmp_path, student) -> Track:
    """Two modules of two lessons each (in order), a quiz per module and a final exam; the student enrolled."""
    at(0)
    track = make_track()
    add_lessons(track, per_module=2)
    load_quizzes(
        tmp_path / "quizzes",
        {
            "basics-quiz": quiz_toml(),
            "advanced-quiz": quiz_toml(module="advanced", title="Advanced quiz"),
            "test-final": quiz_toml(kind="final", module=None, title="Final exam", attempts_allowed=2),
        },
    )
    enrol(student, track)
    return track


def attempts() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) or 0


def test_the_first_modules_quiz_is_open_from_the_start(client, login, student, track):
    login(client, student)
    assert start(client, "basics-quiz")


def test_a_module_quiz_opens_when_its_module_opens(client, login, student, track):
    login(client, student)
    page = client.get("/quizzes/advanced-quiz").get_data(as_text=True)
    assert "This quiz opens with its module, Advanced, when you complete Basics." in page
    assert "Basics: 0 of 2 lessons done" in page
    assert 'href="/tracks/test-track"' in page
    assert "Start the quiz" not in page
    refused = client.post("/quizzes/advanced-quiz/start")
    assert refused.status_code == 403 and "when you complete Basics" in refused.get_data(as_text=True)
    assert attempts() == 0

    complete_lessons(student, track, modules=("basics",))
    assert "Start the quiz" in client.get("/quizzes/advanced-quiz").get_data(as_text=True)
    assert start(client, "advanced-quiz")


def test_the_final_exam_opens_when_every_module_is_complete(client, login, student, track):
    login(client, student)
    complete_lessons(student, track, modules=("basics",))
    page = client.get("/quizzes/test-final").get_data(as_text=True)
    assert "The final exam opens when you have completed every module of the track." in page
    assert "Advanced: 0 of 2 lessons done" in page and "Basics:" not in page
    assert client.post("/quizzes/test-final/start").status_code == 403
    with pytest.raises(operations.QuizLocked):
        operations.start_attempt(student, quiz_by_slug("test-final"))
    assert attempts() == 0

    complete_lessons(student, track)
    assert operations.plan_attempt(student, quiz_by_slug("test-final")).allowed
    assert start(client, "test-final")


def test_in_a_free_track_every_module_quiz_is_open(client, login, student, track):
    track.unlock = "free"
    db.session.commit()
    login(client, student)
    assert start(client, "advanced-quiz")
    assert client.post("/quizzes/test-final/start").status_code == 403  # the final exam's rule still holds


def test_the_final_exam_rule_is_one_function_of_the_outline(student, track):
    from lms.courses.operations import track_outline

    outline = track_outline(student, track)
    decided = operations.decide_final_exam(outline)
    assert not decided.open and [m.title for m in decided.missing] == ["Basics", "Advanced"]
    complete_lessons(student, track)
    assert operations.decide_final_exam(track_outline(student, track)).open


def test_other_refusals_keep_their_redirect(client, login, make_user, track):
    login(client, make_user())  # not enrolled: told so on the overview, as before
    response = client.post("/quizzes/advanced-quiz/start")
    assert response.status_code == 302 and attempts() == 0

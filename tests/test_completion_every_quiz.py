"""Module checkpoints count: a track's rule `quizzes = "all"` asks for every live module quiz and the final exam (never
a recertification exam); the final opens once every module quiz is passed; the track page and the quiz page say
which module quizzes are still to pass; a certificate keeps the quizzes the rule meant when it was issued."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.certificates import eligibility
from lms.certificates.models import Certificate
from lms.courses.models import Track
from lms.extensions import db
from lms.quizzes import operations
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

PASSING = {"q-goal": "c1", "q-pilot": "true", "q-roi": "roi"}  # 3 of 5 points: the 60 % pass mark
FAILING = {"q-goal": "c2"}


@pytest.fixture
def track(app, tmp_path, student) -> Track:
    """Two modules with a quiz each, a final exam and a recertification exam; the rule asks for every quiz."""
    at(0)
    track = make_track()
    track.completion = {"quizzes": "all"}
    db.session.commit()
    add_lessons(track, per_module=1)
    load_quizzes(
        tmp_path / "quizzes",
        {
            "basics-quiz": quiz_toml(),
            "advanced-quiz": quiz_toml(module="advanced", title="Advanced quiz"),
            "test-final": quiz_toml(kind="final", module=None, title="Final exam"),
            "test-recert": quiz_toml(kind="recertification", module=None, title="Recertification exam"),
        },
    )
    enrol(student, track)
    return track


def take(client, slug: str, answers: dict) -> None:
    attempt_id = start(client, slug)
    response = client.post(
        f"/quizzes/attempts/{attempt_id}/submit", data={**answers, "confirm": "unanswered"}
    )
    assert response.status_code == 302


def certificates() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Certificate)) or 0


def test_all_means_every_live_module_quiz_and_the_final_never_the_recertification_exam(track):
    assert operations.assessed_quiz_slugs(track.id) == ["basics-quiz", "advanced-quiz", "test-final"]
    quiz_by_slug("advanced-quiz").retired_at = at(0)
    db.session.commit()
    assert eligibility.required_quizzes(track) == ["basics-quiz", "test-final"]
    assert eligibility.required_quizzes(track, {"quizzes": ["test-final"]}) == ["test-final"]


def test_the_final_opens_once_every_module_quiz_is_passed(client, login, student, track):
    login(client, student)
    complete_lessons(student, track)  # modules complete: not enough under this rule
    page = client.get("/quizzes/test-final").get_data(as_text=True)
    assert "The final exam opens when you have passed every module quiz." in page
    assert "Still to pass:" in page and "Basics quiz" in page and "Advanced quiz" in page
    assert client.post("/quizzes/test-final/start").status_code == 403

    take(client, "basics-quiz", PASSING)
    take(client, "advanced-quiz", FAILING)
    page = client.get("/quizzes/test-final").get_data(as_text=True)
    assert "Advanced quiz" in page and "Basics quiz" not in page
    assert client.post("/quizzes/test-final/start").status_code == 403

    take(client, "advanced-quiz", PASSING)
    assert operations.plan_attempt(student, quiz_by_slug("test-final")).allowed


def test_the_certificate_needs_every_module_quiz_and_the_final(client, login, student, track):
    login(client, student)
    complete_lessons(student, track)
    take(client, "basics-quiz", PASSING)
    take(client, "advanced-quiz", PASSING)
    result = eligibility.check_eligibility(student.id, track)
    assert [r.label for r in result.missing] == ["Quiz “Final exam” passed"]
    assert [r.met for r in result.requirements] == [True, True, False]
    assert certificates() == 0

    take(client, "test-final", PASSING)
    assert eligibility.is_eligible(student.id, track)
    certificate = db.session.execute(sa.select(Certificate)).scalar_one()
    # The certificate keeps the quizzes the rule meant: a module quiz added later asks nothing of its holder.
    assert certificate.current.rule == {"quizzes": ["basics-quiz", "advanced-quiz", "test-final"]}


def test_passing_the_final_alone_earns_nothing(client, login, student, track):
    login(client, student)
    # A list rule opens the final on completed modules: pass it alone, then ask for every quiz.
    track.completion = {"quizzes": ["test-final", "basics-quiz"]}
    db.session.commit()
    complete_lessons(student, track)
    take(client, "test-final", PASSING)
    track.completion = {"quizzes": "all"}
    db.session.commit()
    assert not eligibility.is_eligible(student.id, track) and certificates() == 0
    labels = [r.label for r in eligibility.check_eligibility(student.id, track).missing]
    assert labels == ["Quiz “Basics quiz” passed", "Quiz “Advanced quiz” passed"]


def test_the_track_page_names_the_module_quizzes_still_to_pass(client, login, student, track):
    login(client, student)
    page = client.get("/tracks/test-track").get_data(as_text=True)
    assert "the final exam opens once you have passed them all" in page
    assert "Module quizzes still to pass:" in page
    assert 'href="/quizzes/basics-quiz">Basics quiz</a></li>' in page
    assert "Recertification exam" not in page
    complete_lessons(student, track)
    take(client, "basics-quiz", PASSING)
    take(client, "advanced-quiz", PASSING)
    page = client.get("/tracks/test-track").get_data(as_text=True)
    assert "Module quizzes still to pass:" not in page and "You have passed every module quiz." in page


def test_a_list_rule_keeps_the_final_on_completed_modules(client, login, student, track):
    track.completion = {"quizzes": ["test-final"]}
    db.session.commit()
    login(client, student)
    page = client.get("/quizzes/test-final").get_data(as_text=True)
    assert "The final exam opens when you have completed every module of the track." in page
    assert "Module quizzes still to pass:" not in client.get("/tracks/test-track").get_data(as_text=True)


def test_the_track_file_accepts_all(tree):
    from tests.fixtures.courses.samples import check_tree
    from tests.test_courses_loader import edit, problems

    edit(tree, "alpha/track.toml", 'quizzes = ["alpha-final"]', 'quizzes = "all"')
    content = check_tree(tree)
    assert content.problems == [] and content.parsed["courses"]["alpha"].completion["quizzes"] == "all"
    edit(tree, "alpha/track.toml", 'quizzes = "all"', 'quizzes = "some"')
    assert any('"quizzes" must be a list of quiz slugs' in p[2] and '"all"' in p[2] for p in problems(tree))


def test_both_tracks_ask_for_every_quiz():
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "courses"
    for name in ("social-media-strategist", "social-media-manager"):
        assert tomllib.loads((root / name / "track.toml").read_text())["completion"]["quizzes"] == "all"


def test_the_badge_criteria_name_every_quiz_the_rule_means(track):
    from lms.certificates.openbadges import criteria_narrative

    narrative = criteria_narrative(track)
    assert "“Basics quiz”" in narrative and "“Advanced quiz”" in narrative and "“Final exam”" in narrative
    assert "Recertification" not in narrative

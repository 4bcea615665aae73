"""Access rules for timed quizzes: students reach only their own attempts; staff see lists, analysis, overrides."""

import tempfile
from pathlib import Path

from lms.quizzes import operations
from tests.access_rules import LOGIN, REDIRECT, Rule, signed_in, staff_only
from tests.test_quiz_support import enrol, load_quizzes, make_track, quiz_by_slug, quiz_toml

OWNER_ONLY_200 = {"anonymous": LOGIN, "student": 200, "instructor": 404, "admin": 404}
OWNER_ONLY_REDIRECT = {"anonymous": LOGIN, "student": REDIRECT, "instructor": 404, "admin": 404}


def prepare(s):
    track = make_track()
    load_quizzes(Path(tempfile.mkdtemp()) / "quizzes", {"basics-quiz": quiz_toml()})
    enrol(s.student, track)
    quiz = quiz_by_slug("basics-quiz")
    done = operations.start_attempt(s.student, quiz)
    operations.submit_attempt(s.student, done.id)
    s.done_attempt_id = done.id
    s.attempt_id = operations.start_attempt(s.student, quiz).id
    s.quiz_slug = quiz.slug


RULES = [
    Rule("quizzes.overview", "GET", lambda s: f"/quizzes/{s.quiz_slug}", signed_in(200)),
    Rule("quizzes.start", "POST", lambda s: f"/quizzes/{s.quiz_slug}/start", signed_in(REDIRECT)),
    Rule("quizzes.take", "GET", lambda s: f"/quizzes/attempts/{s.attempt_id}", OWNER_ONLY_200),
    Rule(
        "quizzes.save",
        "POST",
        lambda s: f"/quizzes/attempts/{s.attempt_id}/answers",
        OWNER_ONLY_200,
        json=lambda s: {"question": "goal", "value": "c1", "seq": 1},
    ),
    Rule("quizzes.clock", "GET", lambda s: f"/quizzes/attempts/{s.attempt_id}/clock", OWNER_ONLY_200),
    Rule("quizzes.summary", "GET", lambda s: f"/quizzes/attempts/{s.attempt_id}/summary", OWNER_ONLY_200),
    Rule(
        "quizzes.flag",
        "POST",
        lambda s: f"/quizzes/attempts/{s.attempt_id}/flags",
        OWNER_ONLY_200,
        json=lambda s: {"question": "goal", "flagged": True},
    ),
    Rule(
        "quizzes.submit",
        "POST",
        lambda s: f"/quizzes/attempts/{s.attempt_id}/submit",
        OWNER_ONLY_REDIRECT,
        data=lambda s: {"q-goal": "c1"},
    ),
    Rule("quizzes.result", "GET", lambda s: f"/quizzes/attempts/{s.done_attempt_id}/result", OWNER_ONLY_200),
    Rule("quizzes.staff_quizzes", "GET", lambda s: "/staff/quizzes", staff_only(200)),
    Rule(
        "quizzes.staff_attempts", "GET", lambda s: f"/staff/quizzes/{s.quiz_slug}/attempts", staff_only(200)
    ),
    Rule(
        "quizzes.staff_attempt", "GET", lambda s: f"/staff/quizzes/attempts/{s.attempt_id}", staff_only(200)
    ),
    Rule(
        "quizzes.staff_extra_time",
        "POST",
        lambda s: f"/staff/quizzes/attempts/{s.attempt_id}/extra-time",
        staff_only(REDIRECT),
        data=lambda s: {"minutes": "5"},
    ),
    Rule(
        "quizzes.staff_override",
        "POST",
        lambda s: f"/staff/quizzes/{s.quiz_slug}/overrides",
        staff_only(REDIRECT),
        data=lambda s: {"student": s.other_student.email, "kind": "extra_attempt"},
    ),
    Rule(
        "quizzes.staff_analysis", "GET", lambda s: f"/staff/quizzes/{s.quiz_slug}/analysis", staff_only(200)
    ),
    Rule("quizzes.staff_accommodations", "GET", lambda s: "/staff/accommodations", staff_only(200)),
    Rule("quizzes.staff_blueprints", "GET", lambda s: "/staff/quizzes/blueprints", staff_only(200)),
    Rule(
        "quizzes.staff_set_accommodation",
        "POST",
        lambda s: f"/staff/accommodations/{s.other_student.id}",
        staff_only(REDIRECT),
        data=lambda s: {"factor": "1.5"},
    ),
]

"""A module quiz shows the correct answers only once the student has passed it or has no attempt left; the score
(and the student's own answers, where the policy shows them) always. A final exam keeps its own policy."""

from __future__ import annotations

from datetime import timedelta

from lms.courses.models import Track
from lms.extensions import db
from lms.quizzes import operations
from tests.test_quiz_attempts import T0, at, start
from tests.test_quiz_support import add_lessons, complete_lessons, setup_quiz

PASSING = {"q-goal": "c1", "q-pilot": "true", "q-roi": "roi"}  # 3 of 5 points, the 60 % pass mark
FAILING = {"q-goal": "c2", "q-roi": "my own words"}
CORRECT_FEEDBACK = "Goals first."  # the question's feedback, shown with the correct answers


def take(client, answers: dict, slug: str = "basics-quiz") -> str:
    attempt_id = start(client, slug)
    client.post(f"/quizzes/attempts/{attempt_id}/submit", data={**answers, "confirm": "unanswered"})
    return client.get(f"/quizzes/attempts/{attempt_id}/result").get_data(as_text=True)


def test_a_failed_module_attempt_with_attempts_left_holds_the_correct_answers_back(
    client, login, student, tmp_path
):
    at(0)
    setup_quiz(tmp_path, student, attempts_allowed=2)
    login(client, student)
    page = take(client, FAILING)
    assert "0 of 5 points (0.0%)" in page  # the score, always
    assert "my own words" in page  # the student's own answers
    assert CORRECT_FEEDBACK not in page and "Accepted:" not in page and 'badge-ok">correct' not in page
    assert "shown once you pass this quiz or have used all your attempts" in page

    page = take(client, FAILING)  # the last attempt: nothing left to protect
    assert CORRECT_FEEDBACK in page and "Accepted:" in page
    assert "shown once you pass" not in page


def test_a_passed_module_attempt_shows_the_correct_answers(client, login, student, tmp_path):
    at(0)
    setup_quiz(tmp_path, student, attempts_allowed=3)
    login(client, student)
    page = take(client, PASSING)
    assert "Passed" in page and CORRECT_FEEDBACK in page and "Accepted:" in page


def test_once_passed_every_attempt_shows_them(client, login, student, tmp_path):
    at(0)
    setup_quiz(tmp_path, student, attempts_allowed=0)  # unlimited: attempts never run out
    login(client, student)
    first = take(client, FAILING)
    assert CORRECT_FEEDBACK not in first
    take(client, PASSING)
    attempts = operations.attempts_of(student.id, operations.get_quiz("basics-quiz").id)
    assert CORRECT_FEEDBACK in client.get(f"/quizzes/attempts/{attempts[0].id}/result").get_data(as_text=True)


def test_an_extra_attempt_from_staff_counts_as_an_attempt_left(client, login, student, instructor, tmp_path):
    at(0)
    quiz = setup_quiz(tmp_path, student, attempts_allowed=1)
    operations.grant_extra_attempt(instructor, quiz, student, "Internet outage")
    login(client, student)
    assert CORRECT_FEEDBACK not in take(client, FAILING)


def test_a_final_exam_keeps_its_policy(client, login, student, tmp_path):
    at(0)
    quiz = setup_quiz(tmp_path, student, slug="test-final", kind="final", module=None, attempts_allowed=3)
    track = db.session.get(Track, quiz.track_id)
    add_lessons(track, per_module=1)
    complete_lessons(student, track)  # the final opens
    login(client, student)
    assert CORRECT_FEEDBACK in take(client, FAILING, "test-final")


def test_the_rule_is_one_pure_decision(app, tmp_path):
    quiz = setup_quiz(tmp_path)
    now = T0
    decide = operations.decide_review
    assert decide(quiz, passed_once=False, attempts_left=1, now=now).level == "answers"
    assert decide(quiz, passed_once=False, attempts_left=None, now=now).level == "answers"
    assert decide(quiz, passed_once=True, attempts_left=1, now=now).level == "correct_answers"
    assert decide(quiz, passed_once=False, attempts_left=0, now=now).level == "correct_answers"
    quiz.review = "score_only"
    assert decide(quiz, passed_once=False, attempts_left=0, now=now).level == "score_only"
    quiz.review, quiz.review_after, quiz.closes_at = "correct_answers", "close", now + timedelta(hours=1)
    assert decide(quiz, passed_once=True, attempts_left=0, now=now).level == "score_only"

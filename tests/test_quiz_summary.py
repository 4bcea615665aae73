"""What students of Moodle and Canvas expect around a timed quiz: a question navigator (a nav, aria-current),
flags for review kept with the attempt (JSON, and the plain form's button), a summary page before submitting with
links to the unanswered and flagged questions, a confirmation before submitting with questions unanswered (in plain
HTML), and "not answered" in the review."""

from __future__ import annotations

import re

import sqlalchemy as sa

from lms.extensions import db
from lms.quizzes.models import AnswerSave
from tests import test_quiz_attempts
from tests.test_quiz_attempts import at, attempt, save

# The same fixtures: a quiz (goal, pick, pilot, roi: 4 questions in that order), and the student's attempt of it.
quiz, taking = test_quiz_attempts.quiz, test_quiz_attempts.taking


def flag(client, attempt_id: int, question: str, flagged: bool):
    return client.post(
        f"/quizzes/attempts/{attempt_id}/flags", json={"question": question, "flagged": flagged}
    )


def nav_link(page: str, question: str) -> str:
    return re.search(rf'<a href="[^"]*#question-{question}"[^>]*>.*?</a>', page, re.S).group(0)


def test_the_navigator_shows_each_question_answered_or_flagged(client, taking):
    at(10)
    save(client, taking, "goal", "c1", 1)
    flag(client, taking, "pilot", True)
    page = client.get(f"/quizzes/attempts/{taking}").get_data(as_text=True)
    assert '<nav class="card quiz-nav" id="quiz-nav" aria-label="Questions">' in page
    goal, pick, pilot = nav_link(page, "goal"), nav_link(page, "pick"), nav_link(page, "pilot")
    assert 'aria-current="location"' in goal and "is-answered" in goal and "Question 1, " in goal
    assert ">answered<" in goal
    assert ">not answered<" in pick and "is-answered" not in pick
    assert ">not answered, flagged for review<" in pilot and "is-flagged" in pilot
    assert "1 of 4 answered, 1 flagged" in page
    assert 'id="flag-pilot"' in page and 'aria-pressed="true"' in page.split('id="flag-pilot"')[1][:400]


def test_flags_are_kept_with_the_attempt(client, login, make_user, taking):
    at(10)
    response = flag(client, taking, "roi", True)
    assert response.status_code == 200 and response.get_json()["flags"] == ["roi"]
    flag(client, taking, "goal", True)
    assert attempt(taking).flagged == ["goal", "roi"]  # in the attempt's order
    assert flag(client, taking, "roi", False).get_json() == {"ok": True, "question": "roi", "flagged": False,
                                                              "flags": ["goal"]}  # fmt: skip
    assert flag(client, taking, "nope", True).status_code == 422
    assert (
        client.post(
            f"/quizzes/attempts/{taking}/flags", json={"question": "goal", "flagged": "yes"}
        ).status_code
        == 422
    )
    assert client.post(f"/quizzes/attempts/{taking}/flags", json=[1]).status_code == 400
    client.post(f"/quizzes/attempts/{taking}/submit", json={})
    assert flag(client, taking, "pick", True).status_code == 409
    login(client, make_user())
    assert flag(client, taking, "pick", True).status_code == 404
    assert attempt(taking).flagged == ["goal"]


def test_the_plain_forms_flag_button_keeps_its_answers_and_goes_back_to_the_question(client, taking):
    at(10)
    response = client.post(
        f"/quizzes/attempts/{taking}/flags", data={"q-goal": "c2", "q-roi": "ROI", "flag": "pick"}
    )
    assert response.status_code == 302 and response.location.endswith(
        f"/quizzes/attempts/{taking}#question-pick"
    )
    assert attempt(taking).flagged == ["pick"]
    saved = dict(db.session.execute(sa.select(AnswerSave.question_id, AnswerSave.value)).all())
    assert saved == {"goal": "c2", "roi": "ROI"}
    client.post(f"/quizzes/attempts/{taking}/flags", data={"q-goal": "c2", "q-roi": "ROI", "flag": "pick"})
    assert attempt(taking).flagged == []  # pressed again: the flag is off


def test_the_summary_page_counts_and_links_the_questions(client, taking):
    at(10)
    save(client, taking, "goal", "c1", 1)
    save(client, taking, "pick", [], 1)  # ticked, then unticked: not an answer
    flag(client, taking, "goal", True)
    page = client.get(f"/quizzes/attempts/{taking}/summary").get_data(as_text=True)
    counts = page[page.index('id="quiz-summary-counts"') :]
    assert "<dt>Answered</dt><dd>1 of 4</dd>" in counts and "<dt>Not answered</dt><dd>3</dd>" in counts
    assert "<dt>Flagged for review</dt><dd>1</dd>" in counts
    unanswered = page[page.index('id="quiz-unanswered"') :].split("</p>")[0]
    for number, question in ((2, "pick"), (3, "pilot"), (4, "roi")):
        assert f'<a href="/quizzes/attempts/{taking}#question-{question}">question {number}</a>' in unanswered
    flagged = page[page.index('id="quiz-flagged"') :].split("</p>")[0]
    assert f'<a href="/quizzes/attempts/{taking}#question-goal">question 1</a>' in flagged
    assert "Submit with 3 unanswered questions" in page


def test_submitting_the_plain_form_with_questions_unanswered_asks_first(client, taking):
    at(10)
    response = client.post(f"/quizzes/attempts/{taking}/submit", data={"q-goal": "c1", "q-pilot": "true"})
    assert response.status_code == 302 and response.location.endswith(f"/quizzes/attempts/{taking}/summary")
    assert attempt(taking).state == "in_progress"
    summary = client.get(response.location).get_data(as_text=True)
    assert "2 questions are not answered yet. Your answers are saved" in summary
    assert "<dt>Answered</dt><dd>2 of 4</dd>" in summary  # the form's answers are kept
    done = client.post(
        f"/quizzes/attempts/{taking}/submit", data={"from": "summary", "confirm": "unanswered"}
    )
    assert done.status_code == 302 and done.location.endswith("/result")
    finished = attempt(taking)
    assert finished.state == "submitted" and finished.score == 2.0  # nothing lost by the summary's own form


def test_a_plain_form_with_every_question_answered_submits_at_once(client, taking):
    at(10)
    response = client.post(
        f"/quizzes/attempts/{taking}/submit",
        data={"q-goal": "c1", "q-pick": ["c1"], "q-pilot": "false", "q-roi": "x"},
    )
    assert response.location.endswith("/result") and attempt(taking).state == "submitted"


def test_the_review_says_not_answered(client, taking):
    at(10)
    save(client, taking, "pilot", True, 1)
    client.post(f"/quizzes/attempts/{taking}/submit", json={})
    page = client.get(f"/quizzes/attempts/{taking}/result").get_data(as_text=True)
    assert page.count("not answered") == 3  # goal and pick (choices), roi (text); pilot is answered
    assert "Your answer: <strong>not answered</strong>" in page

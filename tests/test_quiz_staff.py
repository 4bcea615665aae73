"""Staff pages: attempts list, one attempt with every save, item analysis with its SVG histogram, accommodations;
lists run a constant number of queries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lms import clock
from lms.accounts.models import Role
from lms.accounts.operations import set_accommodation
from lms.courses.models import Track
from lms.extensions import db
from lms.quizzes import operations
from lms.quizzes.analysis import analyse, histogram, histogram_svg
from tests.support import recorded_statements
from tests.test_quiz_support import enrol, setup_quiz

QUESTIONS = [
    {"id": "q1", "type": "single", "prompt": "One?", "points": 1,
     "choices": [{"id": "c1", "text": "Right", "correct": True}, {"id": "c2", "text": "Wrong", "correct": False}]},
    {"id": "q2", "type": "true_false", "prompt": "Two?", "points": 1, "answer": True},
]  # fmt: skip


def result(answer, right: bool) -> dict:
    return {"answer": answer, "points": 1.0 if right else 0.0, "max": 1.0}


def test_item_analysis_numbers():
    attempts = [
        {"percent": 90, "results": {"q1": result("c1", True), "q2": result(False, False)}},
        {"percent": 60, "results": {"q1": result("c1", True), "q2": result(True, True)}},
        {"percent": 40, "results": {"q1": result("c2", False), "q2": result(True, True)}},
        {"percent": 10, "results": {"q1": result(None, False), "q2": result(True, True)}},
    ]
    analysis = analyse(QUESTIONS, attempts)
    q1, q2 = analysis.questions
    assert (q1.shown, q1.right, q1.percent_right) == (4, 2, 50.0)
    assert q1.discrimination == 1.0  # the top attempt got it, the bottom one did not
    assert q2.discrimination == -1.0  # the reverse: a question to review
    assert [(c.label, c.count, c.share, c.correct) for c in q1.choices] == [
        ("Right", 2, 50.0, True),
        ("Wrong", 1, 25.0, False),
    ]
    assert [(c.label, c.count) for c in q2.choices] == [("True", 3), ("False", 1)]
    assert analysis.histogram == [0, 1, 0, 0, 1, 0, 1, 0, 0, 1]
    assert analysis.mean_percent == 50.0


def test_analysis_of_nothing_and_of_one_attempt():
    empty = analyse(QUESTIONS, [])
    assert empty.attempts == 0 and empty.mean_percent is None
    assert empty.questions[0].percent_right is None and empty.questions[0].discrimination is None
    single = analyse(QUESTIONS, [{"percent": 50, "results": {"q1": result("c1", True)}}])
    assert single.questions[0].discrimination is None  # no groups to compare
    assert single.questions[1].shown == 0


def test_histogram_bins_and_svg():
    assert histogram([0, 9.99, 10, 55, 99.9, 100]) == [2, 1, 0, 0, 0, 1, 0, 0, 0, 2]
    svg = str(histogram_svg([2, 1, 0, 0, 0, 1, 0, 0, 0, 2]))
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert svg.count('<rect class="bar"') == 10
    assert "<title>90-100%: 2</title>" in svg
    assert "Scores of 6 attempts" in svg


@pytest.fixture
def quiz(app, tmp_path):
    clock.freeze(datetime(2030, 1, 7, 10, 0, tzinfo=UTC))
    return setup_quiz(tmp_path, attempts_allowed=0)


def take(student, quiz, answers: dict) -> int:
    attempt = operations.start_attempt(student, quiz)
    return operations.submit_attempt(student, attempt.id, answers).id


def students_with_attempts(make_user, quiz, n: int) -> list:
    track = db.session.get(Track, quiz.track_id)
    students = []
    for i in range(n):
        student = make_user(Role.STUDENT)
        enrol(student, track)
        take(
            student,
            quiz,
            {"goal": "c1" if i % 2 == 0 else "c2", "pilot": "true", "roi": "roi" if i < 2 else "x"},
        )
        students.append(student)
    return students


def test_attempts_list_and_analysis_pages_run_a_constant_number_of_queries(client, login, instructor, make_user,
                                                                           quiz):  # fmt: skip
    login(client, instructor)
    students_with_attempts(make_user, quiz, 1)
    pages = ["/staff/quizzes", "/staff/quizzes/basics-quiz/attempts", "/staff/quizzes/basics-quiz/analysis"]
    few = {}
    for url in pages:
        with recorded_statements() as statements:
            assert client.get(url).status_code == 200
        few[url] = len(statements)
    students_with_attempts(make_user, quiz, 5)
    for url in pages:
        with recorded_statements() as statements:
            assert client.get(url).status_code == 200
        assert len(statements) == few[url], url
    attempts_page = client.get("/staff/quizzes/basics-quiz/attempts").get_data(as_text=True)
    assert attempts_page.count("Details<span") == 6


def test_the_analysis_page_shows_rates_choices_and_a_histogram(client, login, instructor, make_user, quiz):
    students_with_attempts(make_user, quiz, 4)  # goal right for 2 of 4; pilot right for all; roi right for 2
    login(client, instructor)
    page = client.get("/staff/quizzes/basics-quiz/analysis").get_data(as_text=True)
    assert "4 submitted attempts on version 1" in page
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="quiz-histogram"' in page
    goal = page[page.index('id="item-goal"') : page.index('id="item-pick"')]
    assert '<strong class="percent-right">50.0%</strong>' in goal
    assert "A clear business goal" in goal and "50.0%" in goal
    assert "<script" not in page.split("<main", 1)[1].split("</main>", 1)[0]


def test_the_attempt_page_shows_every_save_received(client, login, instructor, student, quiz):
    enrol(student, db.session.get(Track, quiz.track_id))
    attempt = operations.start_attempt(student, quiz)
    operations.save_answer(student, attempt.id, "goal", "c2", 2)
    operations.save_answer(student, attempt.id, "goal", "c1", 1)  # older, arrived later: kept, not used
    login(client, instructor)
    page = client.get(f"/staff/quizzes/attempts/{attempt.id}").get_data(as_text=True)
    saves = page[page.index('id="saves"') :]
    assert saves.count("<tr><td>") == 2
    assert '<code>"c2"</code>' in saves and '<code>"c1"</code>' in saves
    assert "Add time" in page


def test_accommodations_page_lists_students_with_extra_time(client, login, instructor, make_user, quiz):
    slow = make_user(Role.STUDENT, full_name="Pat Extra")
    make_user(Role.STUDENT, full_name="Quinn Normal")
    set_accommodation(instructor, slow, 1.25)
    login(client, instructor)
    page = client.get("/staff/accommodations").get_data(as_text=True)
    assert "Pat Extra" in page and "Quinn Normal" not in page
    assert 'value="1.25"' in page
    assert "Quinn Normal" in client.get("/staff/accommodations?q=quinn").get_data(as_text=True)

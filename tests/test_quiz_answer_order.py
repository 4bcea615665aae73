"""The newest answer the student gave always wins, whatever the tabs, retries and late arrivals: a save that is not
newer than the stored answer is kept but never becomes the answer, on the one-statement path and under the lock
alike; its reply carries the answer that stands; a reload shows exactly what is scored."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from lms.extensions import db
from lms.quizzes import operations
from lms.quizzes.models import AnswerSave
from tests import test_quiz_attempts
from tests.support import recorded_statements
from tests.test_quiz_attempts import at, attempt, save
from tests.test_quiz_concurrency import stored_saves as stored

# The same fixtures: a quiz (4 questions, 10 minutes), and the student's attempt of it, started at 0 s.
quiz, taking = test_quiz_attempts.quiz, test_quiz_attempts.taking

WAYS = ["one statement", "locked"]


def save_by(
    way: str, client, student, attempt_id: int, question: str, value: Any, seq: int
) -> dict[str, Any]:
    """A save the endpoint's way (tries the one statement first), or straight under the lock (save_answer)."""
    if way == "one statement":
        response = save(client, attempt_id, question, value, seq)
        assert response.status_code == 200, response.get_json()
        return response.get_json()
    receipt = operations.save_answer(student, attempt_id, question, value, seq)
    return {"current": receipt.current, "answer": {"value": receipt.answer_value, "seq": receipt.answer_seq}}


@pytest.mark.parametrize("way", WAYS)
def test_a_save_from_a_stale_tab_is_kept_but_never_becomes_the_answer(client, student, taking, way):
    at(10)
    first = save_by(way, client, student, taking, "goal", "c1", 1)  # tab A
    assert first["current"] is True and first["answer"] == {"value": "c1", "seq": 1}
    at(20)
    stale = save_by(
        way, client, student, taking, "goal", "c2", 1
    )  # tab B read the same number when it loaded
    assert stale["current"] is False
    assert stale["answer"] == {"value": "c1", "seq": 1}  # what tab B must now show, "changed in another tab"
    late = save_by(way, client, student, taking, "goal", "c2", 0)  # an old copy arriving late
    assert late["current"] is False and late["answer"] == {"value": "c1", "seq": 1}
    assert operations.current_answers(taking)["goal"].value == "c1"
    assert stored(taking) == [("goal", 0), ("goal", 1), ("goal", 1)]  # every save kept, for the record
    # Tab B, now showing tab A's answer with its number, changes it: newer, so it is the answer.
    newer = save_by(way, client, student, taking, "goal", "c2", 2)
    assert newer["current"] is True and newer["answer"] == {"value": "c2", "seq": 2}
    assert operations.current_answers(taking)["goal"].value == "c2"


@pytest.mark.parametrize("way", WAYS)
def test_a_retry_of_a_stored_save_is_not_current_and_says_it_is_the_answer(client, student, taking, way):
    at(10)
    save_by(way, client, student, taking, "pick", ["c2", "c1"], 4)
    again = save_by(way, client, student, taking, "pick", ["c1", "c2"], 4)  # the reply was lost; sent again
    assert again["current"] is False
    assert again["answer"] == {"value": ["c1", "c2"], "seq": 4}  # the same answer: the page shows it as saved


def test_of_equal_sequence_numbers_the_first_stored_is_the_answer_everywhere(client, taking):
    at(10)
    save(client, taking, "goal", "c1", 3)
    assert save(client, taking, "goal", "c2", 3).get_json()["current"] is False
    first_id = db.session.execute(sa.select(sa.func.min(AnswerSave.id))).scalar_one()
    assert operations.current_answers(taking)["goal"].save_id == first_id
    page = client.get(f"/quizzes/attempts/{taking}").get_data(as_text=True)
    assert 'id="q-goal-c1" value="c1" checked' in page and 'id="q-goal-c2" value="c2">' in page
    at(30)
    client.post(f"/quizzes/attempts/{taking}/submit", json={})
    assert attempt(taking).results["goal"]["answer"] == "c1"
    assert attempt(taking).results["goal"]["save_id"] == first_id


def test_a_reload_after_tabs_offline_queues_and_retries_shows_exactly_what_is_scored(client, student, taking):
    at(10)
    save(client, taking, "goal", "c1", 0)  # tab A
    save(client, taking, "goal", "c2", 0)  # tab B, stale: not the answer
    save(client, taking, "pilot", False, 2)  # tab A's offline queue, sent on reconnect
    save(client, taking, "pilot", True, 1)  # tab B's older answer, arriving after it
    operations.save_answer(student, taking, "roi", "ROI", 5)  # a save decided under the lock
    save(client, taking, "roi", "ROI", 5)  # ... and its retry
    save(client, taking, "pick", ["c1"], 1)
    save(client, taking, "pick", ["c1", "c3"], 2)
    at(60)
    page = client.get(f"/quizzes/attempts/{taking}").get_data(as_text=True)
    shown = {
        "goal": "c1" if 'id="q-goal-c1" value="c1" checked' in page else "?",
        "pilot": False if 'id="q-pilot-false" value="false" checked' in page else "?",
        "roi": "ROI" if 'id="q-roi-text" value="ROI"' in page else "?",
        "pick": ["c1", "c3"]
        if 'id="q-pick-c1" value="c1" checked' in page and 'id="q-pick-c3" value="c3" checked' in page
        else "?",
    }
    assert 'id="q-pick-c2" value="c2">' in page and 'id="q-pilot-true" value="true">' in page
    client.post(f"/quizzes/attempts/{taking}/submit", json={})
    scored = {qid: result["answer"] for qid, result in attempt(taking).results.items()}
    assert scored == shown


def test_a_stale_save_to_a_known_attempt_is_decided_in_its_one_statement(client, taking):
    at(5)
    assert save(client, taking, "goal", "c1", 1).status_code == 200  # this process now knows the attempt
    at(10)
    token = client.csrf_token()
    payload = {"question": "goal", "value": "c2", "seq": 1}
    with recorded_statements() as statements:
        response = client.post(
            f"/quizzes/attempts/{taking}/answers", json=payload, headers={"X-CSRFToken": token}
        )
    body = response.get_json()
    assert response.status_code == 200 and body["current"] is False and body["answer"]["value"] == "c1"
    statements = [sql for sql in statements if sql != "BEGIN IMMEDIATE"]
    # The save and its verdict in one statement; the answer that stands read after it, for the reply only.
    assert statements[0].startswith("INSERT INTO quiz_answer_saves") and len(statements) == 2, statements
    assert statements[1].startswith("SELECT quiz_answer_saves.value")

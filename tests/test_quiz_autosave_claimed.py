"""The autosave of an attempt a worker has seen: one statement that checks who is signed in as it stores
(lms.accounts.access.tries_claimed), and everything it cannot decide goes the usual way with the usual answer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms.accounts.access import Claim
from lms.accounts.models import User
from lms.extensions import db
from lms.quizzes import operations
from tests import test_quiz_attempts
from tests.support import recorded_statements
from tests.test_quiz_attempts import assert_bad_saves_are_refused, at, attempt, save
from tests.test_quiz_concurrency import stored_saves as stored

# The same fixtures: a quiz, and the student's attempt of it.
quiz, taking = test_quiz_attempts.quiz, test_quiz_attempts.taking


@pytest.fixture
def known(client, taking):
    """An attempt in progress whose first save this process has served (so it knows the attempt)."""
    at(5)
    assert save(client, taking, "goal", "c1", 1).status_code == 200
    assert operations.known_attempt(taking) is not None
    return taking


def test_a_save_to_a_known_attempt_is_one_statement_and_is_stored(client, known):
    at(10)
    token = client.csrf_token()  # the page holds it already
    payload = {"question": "pilot", "value": True, "seq": 2}
    with recorded_statements() as statements:
        response = client.post(
            f"/quizzes/attempts/{known}/answers", json=payload, headers={"X-CSRFToken": token}
        )
    assert response.status_code == 200, response.get_json()
    statements = [sql for sql in statements if sql != "BEGIN IMMEDIATE"]  # SQLite's write lock, in process
    assert len(statements) == 1, statements
    assert statements[0].startswith("INSERT INTO quiz_answer_saves")
    assert "FROM quiz_attempts JOIN users" in statements[0]
    body = response.get_json()
    assert body["ok"] and body["current"] and body["seq"] == 2
    assert body["deadline"] == attempt(known).deadline.isoformat()
    assert stored(known) == [("goal", 1), ("pilot", 2)]
    older = save(client, known, "pilot", False, 1).get_json()
    assert older["ok"] and older["current"] is False  # an older one: kept, not used
    assert stored(known) == [("goal", 1), ("pilot", 1), ("pilot", 2)]


def test_bad_saves_to_a_known_attempt_get_the_same_clear_errors(client, known):
    at(10)
    assert_bad_saves_are_refused(client, known)
    assert stored(known) == [("goal", 1)]


@pytest.mark.parametrize("change", ["password changed elsewhere", "account deactivated"])
def test_a_session_the_account_no_longer_accepts_stores_nothing(client, student, known, change):
    user = db.session.get(User, student.id)
    if change == "account deactivated":
        user.active = False
    else:
        user.session_version += 1
    db.session.commit()
    at(10)
    response = save(client, known, "pilot", True, 2)
    assert response.status_code in (302, 401), response.status_code
    assert stored(known) == [("goal", 1)]


def test_another_account_in_the_same_process_cannot_save_to_a_known_attempt(client, login, make_user, known):
    login(client, make_user())
    at(10)
    response = save(client, known, "pilot", True, 2)
    assert response.status_code == 404 and "no such attempt" in response.get_json()["message"]
    assert stored(known) == [("goal", 1)]


def test_a_submit_served_elsewhere_is_seen_at_the_next_save(client, student, known):
    operations.submit_attempt(student, known)  # another worker: this one still knows the attempt in progress
    assert operations.known_attempt(known).state == "in_progress"
    at(10)
    response = save(client, known, "pilot", True, 2)
    assert response.status_code == 409 and "already submitted" in response.get_json()["message"]
    assert stored(known) == [("goal", 1)]
    assert attempt(known).results["goal"]["answer"] == "c1"


def test_extra_time_given_elsewhere_shows_in_the_next_save(client, instructor, known):
    before = attempt(known).deadline
    operations.add_extra_time(instructor, known, 5)  # another worker
    at(10)
    response = save(client, known, "pilot", True, 2)
    assert response.status_code == 200
    assert response.get_json()["deadline"] == (before + timedelta(minutes=5)).isoformat()
    assert operations.known_attempt(known).deadline == before + timedelta(minutes=5)
    assert stored(known) == [("goal", 1), ("pilot", 2)]


def test_a_save_to_a_known_attempt_after_the_deadline_still_finalizes_it(client, known):
    token = client.csrf_token()  # the page holds it (fetched now, a page would finalize the attempt itself)
    at(3600)  # long past the deadline and every grace
    payload = {"question": "pilot", "value": True, "seq": 2}
    response = client.post(f"/quizzes/attempts/{known}/answers", json=payload, headers={"X-CSRFToken": token})
    assert response.status_code == 409 and "Time was up" in response.get_json()["message"]
    assert attempt(known).state == "submitted"
    assert stored(known) == [("goal", 1)]


def test_the_statement_stores_only_what_the_claim_allows(app, student, make_user, quiz):
    at(0)
    attempt_id = operations.start_attempt(student, quiz).id
    reader, read = operations.read_reader_and_attempt(student.id, attempt_id)
    at(10)
    version = student.session_version
    refused = [
        Claim(student.id, version + 1, ("student",)),  # signed for an older password
        Claim(student.id, version, ("instructor", "admin")),  # a role the route does not admit
        Claim(make_user().id, 0, ("student",)),  # someone else
    ]
    for claim in refused:
        assert operations.save_answer_at_once(claim, read, "goal", "c1", 1) is None, claim
    assert stored(attempt_id) == []
    user = db.session.get(User, student.id)
    user.active = False
    db.session.commit()
    assert operations.save_answer_at_once(Claim.of(reader), read, "goal", "c1", 1) is None
    assert stored(attempt_id) == []
    user.active = True
    db.session.commit()
    assert operations.save_answer_at_once(Claim.of(reader), read, "goal", "c1", 1) is not None
    assert stored(attempt_id) == [("goal", 1)]

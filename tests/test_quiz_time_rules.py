"""The server decides when time is up, and nothing cuts a student's time short: the page's "time is up" before the
server's deadline finishes nothing; a closing time moved later gives cut attempts their time back, moved earlier
shortens no running attempt; grace mode is submit-only; an attempt the server finished ended at its deadline, and
the wait before the next attempt counts from it; a wait that ends after the close promises nothing."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms.accounts.operations import set_accommodation
from lms.audit import AuditEvent
from lms.extensions import db
from lms.quizzes import operations
from lms.quizzes.models import AnswerSave
from tests import test_quiz_attempts
from tests.test_quiz_attempts import T0, at, attempt, ms, save, start
from tests.test_quiz_support import enrol, load_quizzes, make_track, quiz_toml, setup_quiz

# The same fixtures: a quiz (10 minutes, 3 attempts), and the student's attempt of it, started at 0 s.
quiz, taking = test_quiz_attempts.quiz, test_quiz_attempts.taking


def utc(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the page's "time is up" is a hint ---------------------------------------------------------------------------


def test_the_pages_time_up_before_the_servers_deadline_finishes_nothing(client, instructor, taking):
    at(100)
    save(client, taking, "goal", "c1", 1)
    at(500)
    operations.add_extra_time(
        instructor, taking, 5
    )  # given while the page was open: it still counts to 600 s
    at(600)
    response = client.post(f"/quizzes/attempts/{taking}/submit", json={"reason": "time_up"})
    assert response.status_code == 409
    body = response.get_json()
    assert (
        body["state"] == "in_progress"
        and body["deadline_ms"] == ms(900)
        and body["server_time_ms"] == ms(600)
    )
    assert "not up yet" in body["message"] and "10:15:00 UTC" in body["message"]
    assert attempt(taking).state == "in_progress"
    assert save(client, taking, "pilot", True, 1).status_code == 200  # and the student goes on
    at(900)
    done = client.post(f"/quizzes/attempts/{taking}/submit", json={"reason": "time_up"})
    assert done.status_code == 200
    finished = attempt(taking)
    assert (finished.state, finished.submitted_by, finished.score) == ("submitted", "timer", 2.0)
    assert finished.submitted_at == T0 + timedelta(seconds=900)


def test_a_device_clock_a_little_ahead_is_told_the_deadline(client, taking):
    at(599.5)
    response = client.post(f"/quizzes/attempts/{taking}/submit", json={"reason": "time_up"})
    assert response.status_code == 409 and response.get_json()["deadline_ms"] == ms(600)
    at(603)  # the page tries again once its clock follows the server's: accepted, recorded at the deadline
    assert client.post(f"/quizzes/attempts/{taking}/submit", json={"reason": "time_up"}).status_code == 200
    assert attempt(taking).submitted_at == T0 + timedelta(seconds=600)


def test_the_students_own_submit_needs_no_deadline(client, taking):
    at(30)
    response = client.post(f"/quizzes/attempts/{taking}/submit", json={"reason": "student"})
    assert response.status_code == 200 and attempt(taking).submitted_at == T0 + timedelta(seconds=30)


# -- the finish time of an attempt whose time ran out, and the wait before the next one ------------------------


def test_an_attempt_the_server_finished_ended_at_its_deadline_and_the_wait_counts_from_it(
    app, client, login, student, tmp_path
):
    at(0)
    setup_quiz(tmp_path, student, delay_between_attempts_minutes=30)
    login(client, student)
    first = start(client)
    at(3 * 3600)  # the sweep runs hours late
    assert operations.finalize_overdue() == 1
    assert attempt(first).submitted_at == T0 + timedelta(seconds=600)
    at(600 + 1800 - 60)
    page = client.get("/quizzes/basics-quiz").get_data(as_text=True)
    assert "You can start your next attempt on 2030-01-07 at 10:40 UTC (in 1 minute)." in page
    at(600 + 1800)  # 30 minutes after the deadline, to the second
    assert start(client) != first


def test_the_wait_after_a_server_finish_counts_from_the_deadline(app, client, login, student, tmp_path):
    at(0)
    setup_quiz(tmp_path, student, delay_between_attempts_minutes=30)
    login(client, student)
    start(client)
    at(700)  # read after the deadline + network grace: finalized now, recorded at 600 s
    page = client.get("/quizzes/basics-quiz").get_data(as_text=True)
    assert "You can start your next attempt on 2030-01-07 at 10:40 UTC (in 28 minutes 20 seconds)." in page


def test_when_the_wait_would_end_after_the_close_no_further_attempt_is_possible(app, client, login, student,
                                                                                tmp_path):  # fmt: skip
    at(0)
    setup_quiz(tmp_path, student, delay_between_attempts_minutes=60, closes_at=utc(3600))
    login(client, student)
    attempt_id = start(client)
    at(300)
    client.post(f"/quizzes/attempts/{attempt_id}/submit", json={})
    page = client.get("/quizzes/basics-quiz").get_data(as_text=True)
    assert "No further attempt is possible: the quiz closes on 2030-01-07 at 11:00 UTC" in page
    assert "You can start your next attempt" not in page
    refused = client.post("/quizzes/basics-quiz/start", follow_redirects=True).get_data(as_text=True)
    assert "No further attempt is possible" in refused


# -- moving the closing time -----------------------------------------------------------------------------------


def test_a_close_moved_later_gives_cut_attempts_their_time_up_to_their_own_limit(
    app, client, login, student, make_user, instructor, tmp_path
):
    at(0)
    track = make_track()
    folder = tmp_path / "quizzes"
    load_quizzes(folder, {"basics-quiz": quiz_toml(closes_at=utc(420))})  # closes 7 minutes in
    slow = make_user(full_name="Sam Slow")
    set_accommodation(instructor, slow, 1.5)
    for user in (student, slow):
        enrol(user, track)
    quiz = operations.get_quiz("basics-quiz")
    plain = operations.start_attempt(student, quiz).id
    extended = operations.start_attempt(slow, quiz).id
    operations.add_extra_time(instructor, extended, 3)  # staff time runs past any close
    assert (attempt(plain).deadline, attempt(extended).deadline) == (
        T0 + timedelta(minutes=7),
        T0 + timedelta(minutes=10),
    )

    at(60)
    load_quizzes(folder, {"basics-quiz": quiz_toml(closes_at=utc(720))})  # moved to 12 minutes
    assert attempt(plain).deadline == T0 + timedelta(minutes=10)  # capped by its own 10 minutes
    assert not attempt(plain).cut_by_close
    assert attempt(extended).deadline == T0 + timedelta(
        minutes=12 + 3
    )  # still cut (15 min limit), + staff's 3
    assert attempt(extended).cut_by_close
    moved = (
        db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "quiz.attempt_extended_by_close"))
        .scalars()
        .all()
    )
    assert len(moved) == 2

    at(61)
    load_quizzes(folder, {"basics-quiz": quiz_toml(closes_at=utc(3600))})  # and later again: to their limits
    assert attempt(extended).deadline == T0 + timedelta(minutes=15 + 3)
    login(client, student)
    at(590)
    response = save(client, plain, "goal", "c1", 1)
    assert response.status_code == 200 and response.get_json()["deadline_ms"] == ms(600)


def test_a_close_moved_later_leaves_attempts_whose_time_is_already_up(app, client, login, student, tmp_path):
    at(0)
    folder = tmp_path / "quizzes"
    setup_quiz(tmp_path, student, closes_at=utc(420))
    login(client, student)
    attempt_id = start(client)
    at(425)  # past the deadline, inside the network grace: not finished yet, but its time is up
    load_quizzes(folder, {"basics-quiz": quiz_toml(closes_at=utc(3600))})
    assert attempt(attempt_id).deadline == T0 + timedelta(seconds=420)


def test_a_close_moved_earlier_never_shortens_a_running_attempt_and_the_student_is_told(
    app, client, login, student, tmp_path
):
    at(0)
    folder = tmp_path / "quizzes"
    setup_quiz(tmp_path, student, closes_at=utc(3600))
    login(client, student)
    attempt_id = start(client)
    at(60)
    load_quizzes(folder, {"basics-quiz": quiz_toml(closes_at=utc(300))})  # now closes 5 minutes in
    assert attempt(attempt_id).deadline == T0 + timedelta(minutes=10)
    page = client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True)
    shown = re.sub(r"<[^>]+>", "", page)  # the time is a <time> element (lms.timezones)
    assert "The quiz now closes at 2030-01-07 10:05 UTC, earlier than your deadline." in shown
    assert "an attempt already running is never shortened" in page
    at(500)
    assert save(client, attempt_id, "goal", "c1", 1).status_code == 200


# -- grace mode is submit-only ---------------------------------------------------------------------------------


@pytest.fixture
def in_grace(app, client, login, student, tmp_path):
    at(0)
    setup_quiz(tmp_path, student, on_expiry="grace", grace_seconds=120)
    login(client, student)
    attempt_id = start(client)
    at(100)
    save(client, attempt_id, "goal", "c1", 1)
    return attempt_id


def test_grace_mode_stores_a_form_sent_within_the_network_tolerance(client, in_grace):
    at(605)  # sent as time ran out, arriving within the network grace (10 s)
    client.post(
        f"/quizzes/attempts/{in_grace}/submit",
        data={"q-goal": "c1", "q-pilot": "true", "confirm": "unanswered"},
    )
    assert attempt(in_grace).score == 2.0


def test_grace_mode_after_the_tolerance_scores_what_was_saved_in_time(client, in_grace):
    at(700)
    page = client.get(f"/quizzes/attempts/{in_grace}").get_data(as_text=True)
    assert "submitting records the answers saved before the deadline" in page
    response = client.post(f"/quizzes/attempts/{in_grace}/submit", data={"q-goal": "c2", "q-roi": "roi"},
                           follow_redirects=True)  # fmt: skip
    assert "the ones in the form you sent were not saved" in response.get_data(as_text=True)
    done = attempt(in_grace)
    assert (done.submitted_by, done.submitted_at, done.score) == ("student", T0 + timedelta(seconds=700), 1.0)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AnswerSave)) == 1

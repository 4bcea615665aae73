"""Taking a quiz with a frozen clock: deadlines, network grace, accommodation, closing times, lazy finalization,
idempotent submits, attempt rules and the review policy."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from lms import clock, events
from lms.audit import AuditEvent
from lms.extensions import db
from lms.quizzes import operations
from lms.quizzes.models import AnswerSave, Attempt, QuizOverride
from tests.test_quiz_support import load_quizzes, make_track, quiz_toml, setup_quiz

T0 = datetime(2030, 1, 7, 10, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    moment = T0 + timedelta(seconds=seconds)
    clock.freeze(moment)
    return moment


def ms(seconds: float) -> int:
    return int((T0 + timedelta(seconds=seconds)).timestamp() * 1000)


def start(client, slug: str = "basics-quiz") -> int:
    response = client.post(f"/quizzes/{slug}/start")
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "/quizzes/attempts/" in response.location, response.location
    return int(response.location.rsplit("/", 1)[1])


def save(client, attempt_id: int, question: str, value, seq: int, given_at: float | None = None):
    payload = {"question": question, "value": value, "seq": seq}
    if given_at is not None:
        payload["given_at_ms"] = ms(given_at)
    return client.post(f"/quizzes/attempts/{attempt_id}/answers", json=payload)


def attempt(attempt_id: int) -> Attempt:
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id)


@pytest.fixture
def quiz(app, tmp_path, student):
    at(0)
    return setup_quiz(tmp_path, student)


@pytest.fixture
def taking(client, login, student, quiz):
    login(client, student)
    return start(client)


# -- starting --------------------------------------------------------------------------------------------------


def test_starting_fixes_questions_order_and_deadline_and_a_reload_shows_the_same(app, client, login, student,
                                                                                  tmp_path):  # fmt: skip
    at(0)
    setup_quiz(tmp_path, student, draw=3, shuffle_questions=True, shuffle_choices=True)
    login(client, student)
    page = client.get("/quizzes/basics-quiz").get_data(as_text=True)
    assert "You will have 10 minutes." in page
    attempt_id = start(client)
    stored = attempt(attempt_id)
    assert len(stored.layout) == 3
    assert len(set(stored.question_ids)) == 3
    assert stored.deadline == T0 + timedelta(minutes=10)

    first = client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True)
    at(30)
    again = client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True)
    order = [f'data-question="{qid}"' for qid in stored.question_ids]
    assert [first.index(o) for o in order] == sorted(first.index(o) for o in order)
    assert [again.index(o) for o in order] == sorted(again.index(o) for o in order)
    # Starting again (second tab, back button) resumes the same attempt.
    assert start(client) == attempt_id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 1
    assert f'data-deadline-ms="{ms(600)}"' in again
    assert f'data-server-now-ms="{ms(30)}"' in again
    assert "9 minutes 30 seconds" in again


def test_students_must_be_enrolled(app, client, login, make_user, tmp_path):
    at(0)
    setup_quiz(tmp_path)
    outsider = make_user()
    login(client, outsider)
    assert "Enrol in this quiz&#39;s track to take it." in client.get("/quizzes/basics-quiz").get_data(
        as_text=True
    )
    response = client.post("/quizzes/basics-quiz/start", follow_redirects=True)
    assert "Enrol in this quiz&#39;s track to take it." in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 0


# -- the deadline ----------------------------------------------------------------------------------------------


def test_a_save_just_before_the_deadline_is_kept(client, taking):
    at(599.9)
    response = save(client, taking, "goal", "c1", 1)
    assert response.status_code == 200
    body = response.get_json()
    assert body["ok"] is True and body["current"] is True
    assert body["deadline_ms"] == ms(600)
    assert body["server_time_ms"] == ms(599.9)


def test_a_save_given_in_time_is_accepted_inside_the_network_grace(client, taking):
    at(605)  # arrives 5 s late (network), given 1 s before the deadline
    response = save(client, taking, "goal", "c1", 1, given_at=599)
    assert response.status_code == 200
    saved = db.session.execute(sa.select(AnswerSave)).scalar_one()
    assert saved.client_at == T0 + timedelta(seconds=599)
    assert saved.server_at == T0 + timedelta(seconds=605)


def test_an_answer_given_after_the_deadline_is_refused_even_inside_the_grace(client, taking):
    at(100)
    assert save(client, taking, "goal", "c1", 1).status_code == 200
    at(605)
    response = save(client, taking, "goal", "c2", 2, given_at=601)
    assert response.status_code == 409
    body = response.get_json()
    assert body["error"] and "Time was up at 10:10:00 UTC" in body["message"]
    assert "Everything saved before the deadline is kept" in body["message"]
    assert [s.value for s in db.session.execute(sa.select(AnswerSave)).scalars()] == ["c1"]


@pytest.mark.app_config(QUIZ_NETWORK_GRACE_SECONDS=3)
def test_after_deadline_and_grace_saves_are_refused_and_the_attempt_is_finalized_with_what_was_saved(
    client, taking
):
    at(100)
    save(client, taking, "goal", "c1", 1)
    at(604)  # past 600 + 3 s of grace: even a claim of having answered in time is too late
    response = save(client, taking, "roi", "ROI", 1, given_at=590)
    assert response.status_code == 409
    done = attempt(taking)
    assert done.state == "submitted" and done.submitted_by == "server"
    assert done.results["goal"] == {"answer": "c1", "points": 1.0, "max": 1.0, "save_id": 1}
    assert done.results["roi"]["answer"] is None
    assert done.submitted_at == T0 + timedelta(seconds=600)  # its deadline, not the deadline + network grace


def test_client_times_in_the_future_count_as_now(client, taking):
    at(100)
    save(client, taking, "goal", "c1", 1, given_at=5000)
    assert db.session.execute(sa.select(AnswerSave.client_at)).scalar_one() == T0 + timedelta(seconds=100)


def test_an_older_save_arriving_late_never_overwrites_a_newer_one(client, taking):
    at(10)
    assert save(client, taking, "goal", "c2", 2).get_json()["current"] is True
    at(11)
    late = save(client, taking, "goal", "c1", 1)
    assert late.status_code == 200 and late.get_json()["current"] is False
    # both kept as rows; the newest sequence number is the answer
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AnswerSave)) == 2
    assert operations.current_answers(taking)["goal"].value == "c2"
    at(20)
    client.post(f"/quizzes/attempts/{taking}/submit", json={})
    assert attempt(taking).results["goal"]["answer"] == "c2"


def test_a_reload_shows_saved_answers_and_the_same_remaining_time(client, taking):
    at(50)
    save(client, taking, "goal", "c1", 3)
    save(client, taking, "pick", ["c1", "c2"], 1)
    save(client, taking, "pilot", True, 1)
    save(client, taking, "roi", "return on investment", 1)
    at(200)
    page = client.get(f"/quizzes/attempts/{taking}").get_data(as_text=True)
    assert 'id="q-goal-c1" value="c1" checked' in page
    assert 'id="q-pick-c1" value="c1" checked' in page and 'id="q-pick-c2" value="c2" checked' in page
    assert 'id="q-pick-c3" value="c3">' in page
    assert 'id="q-pilot-true" value="true" checked' in page
    assert 'value="return on investment"' in page
    assert 'data-seq="3"' in page
    assert "6 minutes 40 seconds" in page


def test_accommodation_extends_every_quiz_and_the_student_is_told(client, login, student, instructor, quiz):
    login(client, instructor)
    response = client.post(
        f"/staff/accommodations/{student.id}", data={"factor": "1.5"}, follow_redirects=True
    )
    assert "time factor is now 1.5" in response.get_data(as_text=True)
    event = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "user.accommodation_changed"))
    assert event.scalar_one().data == {"old": 1.0, "new": 1.5}

    login(client, student)
    page = client.get("/quizzes/basics-quiz").get_data(as_text=True)
    assert "15 min, extended from 10 min" in page
    attempt_id = start(client)
    assert attempt(attempt_id).deadline == T0 + timedelta(minutes=15)
    at(899)
    assert save(client, attempt_id, "goal", "c1", 1).status_code == 200


def test_an_impossible_factor_is_refused(client, login, student, instructor, quiz):
    login(client, instructor)
    response = client.post(f"/staff/accommodations/{student.id}", data={"factor": "5"}, follow_redirects=True)
    assert "between 1 (no extra time) and 4" in response.get_data(as_text=True)
    db.session.refresh(student)
    assert student.accommodation_factor == 1.0


def test_the_closing_time_cuts_the_attempt_and_the_student_is_told_before_starting(app, client, login, student,
                                                                                   tmp_path):  # fmt: skip
    at(0)
    closes = T0 + timedelta(minutes=7)
    setup_quiz(tmp_path, student, closes_at=closes.strftime("%Y-%m-%dT%H:%M:%SZ"))
    login(client, student)
    page = client.get("/quizzes/basics-quiz").get_data(as_text=True)
    assert "you will have 7 minutes" in page
    attempt_id = start(client)
    stored = attempt(attempt_id)
    assert stored.deadline == closes and stored.cut_by_close
    at(8 * 60)
    assert "This quiz is closed." in client.get("/quizzes/basics-quiz").get_data(as_text=True)


def test_staff_can_add_time_to_an_attempt_in_progress(client, login, student, instructor, taking):
    login(client, instructor)
    at(500)
    response = client.post(
        f"/staff/quizzes/attempts/{taking}/extra-time", data={"minutes": "5"}, follow_redirects=True
    )
    assert "Added 5 minutes" in response.get_data(as_text=True)
    assert attempt(taking).deadline == T0 + timedelta(minutes=15)
    login(client, student)
    at(800)
    response = save(client, taking, "goal", "c1", 1)
    assert response.status_code == 200 and response.get_json()["deadline_ms"] == ms(900)
    assert client.get(f"/quizzes/attempts/{taking}/clock").get_json()["deadline_ms"] == ms(900)


# -- finalizing ------------------------------------------------------------------------------------------------


def test_lazy_finalization_when_the_attempt_is_read(client, taking):
    at(100)
    save(client, taking, "goal", "c1", 1)
    save(client, taking, "pilot", True, 1)
    at(700)  # the student closed the browser; the next read finalizes
    response = client.get(f"/quizzes/attempts/{taking}")
    assert response.status_code == 302 and response.location.endswith(f"/quizzes/attempts/{taking}/result")
    page = client.get(response.location).get_data(as_text=True)
    assert "2 of 5 points (40.0%)" in page
    assert "automatically when the time ran out" in page
    done = attempt(taking)
    assert (done.state, done.submitted_by, done.score) == ("submitted", "server", 2.0)


def test_has_passed_quiz_counts_an_overdue_attempt_without_writing(client, student, taking):
    at(100)
    save(client, taking, "goal", "c1", 1)
    save(client, taking, "pick", ["c1", "c2"], 1)
    save(client, taking, "roi", "roi", 1)
    assert operations.has_passed_quiz(student.id, "basics-quiz") is False  # still in progress
    at(611)
    assert operations.has_passed_quiz(student.id, "basics-quiz") is True  # 4 of 5, pass mark 60
    assert attempt(taking).state == "in_progress"  # read only: safe inside another feature's transaction
    assert operations.finalize_overdue() == 1
    assert operations.has_passed_quiz(student.id, "basics-quiz") is True
    assert attempt(taking).score == 4.0
    assert operations.has_passed_quiz(student.id, "no-such-quiz") is False


def test_finalize_overdue_command(app, client, taking):
    at(100)
    save(client, taking, "goal", "c1", 1)
    runner = app.test_cli_runner()
    at(300)
    assert "Finalized 0 overdue attempts." in runner.invoke(args=["lms", "finalize-overdue"]).output
    at(611)
    result = runner.invoke(args=["lms", "finalize-overdue"])
    assert result.exit_code == 0 and "Finalized 1 overdue attempt." in result.output
    assert attempt(taking).score == 1.0


def test_progress_changed_is_emitted_when_an_attempt_is_finalized(client, student, quiz, taking):
    seen: list[events.ProgressChanged] = []
    with events.subscribed(events.ProgressChanged, seen.append):
        at(60)
        client.post(f"/quizzes/attempts/{taking}/submit", json={})
    assert seen == [events.ProgressChanged(user_id=student.id, track_id=quiz.track_id)]


def test_submitting_twice_gives_one_result(client, taking):
    at(60)
    save(client, taking, "goal", "c1", 1)
    first = client.post(f"/quizzes/attempts/{taking}/submit", json={})
    assert first.status_code == 200 and first.get_json()["percent"] == 20.0
    at(61)
    second = client.post(f"/quizzes/attempts/{taking}/submit", json={})
    assert second.get_json() == first.get_json()
    form = client.post(f"/quizzes/attempts/{taking}/submit", data={"q-goal": "c2"})
    assert form.status_code == 302
    submitted = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "quiz.attempt_submitted"))
    assert len(submitted.scalars().all()) == 1
    assert attempt(taking).submitted_at == T0 + timedelta(seconds=60)
    late = save(client, taking, "goal", "c2", 2)
    assert late.status_code == 409 and "already submitted" in late.get_json()["message"]


def test_without_javascript_the_form_submits_every_answer(client, taking):
    at(120)
    save(client, taking, "goal", "c2", 1)  # an earlier autosave, changed in the form below
    response = client.post(
        f"/quizzes/attempts/{taking}/submit",
        data={"q-goal": "c1", "q-pick": ["c1", "c2"], "q-pilot": "true", "q-roi": " Return on Investment "},
    )
    assert response.status_code == 302
    done = attempt(taking)
    assert done.score == 5.0 and done.passed
    sources = db.session.execute(sa.select(AnswerSave.question_id, AnswerSave.source, AnswerSave.seq)).all()
    assert sorted(sources) == [("goal", "autosave", 1), ("goal", "form", 2), ("pick", "form", 0),
                               ("pilot", "form", 0), ("roi", "form", 0)]  # fmt: skip


def test_a_form_sent_after_the_deadline_is_refused_and_saved_answers_stay(client, taking):
    at(100)
    save(client, taking, "goal", "c1", 1)
    token = client.csrf_token()  # the page's token, loaded before time ran out
    at(615)
    response = client.post(f"/quizzes/attempts/{taking}/submit", csrf=False, follow_redirects=True,
                           data={"q-goal": "c2", "q-pilot": "true", "csrf_token": token})  # fmt: skip
    page = response.get_data(as_text=True)
    assert "your attempt was submitted automatically with the answers saved before the deadline" in page
    # Read first (any page finalizes it), then sent: the same explanation.
    again = client.post(f"/quizzes/attempts/{taking}/submit", data={"q-goal": "c2"}, follow_redirects=True)
    assert "The answers in the form you sent were not accepted." in again.get_data(as_text=True)
    done = attempt(taking)
    assert done.results["goal"]["answer"] == "c1" and done.results["pilot"]["answer"] is None


def test_grace_mode_allows_only_submitting_after_the_deadline(app, client, login, student, tmp_path):
    at(0)
    setup_quiz(tmp_path, student, on_expiry="grace", grace_seconds=60)
    login(client, student)
    attempt_id = start(client)
    at(100)
    save(client, attempt_id, "goal", "c1", 1)
    at(630)
    refused = save(client, attempt_id, "roi", "roi", 1)
    assert refused.status_code == 409
    assert "answers can no longer be changed. Submit your attempt now." in refused.get_json()["message"]
    assert client.get(f"/quizzes/attempts/{attempt_id}").status_code == 200  # not finalized inside the grace
    at(665)
    # Submit only: the submission is recorded and scores the answers saved in time; the form's are not stored.
    response = client.post(f"/quizzes/attempts/{attempt_id}/submit", data={"q-goal": "c1", "q-pilot": "true"})
    assert response.status_code == 302 and response.location.endswith("/result")
    done = attempt(attempt_id)
    assert done.submitted_by == "student" and done.score == 1.0
    assert done.results["pilot"]["answer"] is None
    assert [(s.question_id, s.source) for s in db.session.execute(sa.select(AnswerSave)).scalars()] == [
        ("goal", "autosave")
    ]
    page = client.get(response.location).get_data(as_text=True)
    assert "the ones in the form you sent were not saved" in page


def test_grace_mode_finalizes_after_the_grace(app, client, login, student, tmp_path):
    at(0)
    setup_quiz(tmp_path, student, on_expiry="grace", grace_seconds=60)
    login(client, student)
    attempt_id = start(client)
    at(669)
    assert attempt(attempt_id).state == "in_progress"
    assert operations.finalize_overdue() == 0
    at(671)
    assert operations.finalize_overdue() == 1


# -- attempts, delay, grading, overrides -----------------------------------------------------------------------


def _take_and_submit(client, answers: dict, seconds: float) -> int:
    at(seconds)
    attempt_id = start(client)
    # Questions left unanswered on purpose: confirmed, as the summary page's button does.
    client.post(f"/quizzes/attempts/{attempt_id}/submit", data={**answers, "confirm": "unanswered"})
    return attempt_id


def test_attempt_limit_delay_and_grading_are_enforced(app, client, login, student, instructor, tmp_path):
    at(0)
    setup_quiz(tmp_path, student, attempts_allowed=2, delay_between_attempts_minutes=60, grading="highest")
    login(client, student)
    _take_and_submit(client, {"q-goal": "c1", "q-pilot": "true", "q-roi": "roi"}, 0)  # 3/5 = 60%
    at(30 * 60)
    response = client.post("/quizzes/basics-quiz/start", follow_redirects=True)
    assert "You can start your next attempt on 2030-01-07 at 11:00 UTC (in 30 minutes)." in response.get_data(
        as_text=True
    )
    _take_and_submit(client, {"q-goal": "c2"}, 3600)  # 0%
    assert operations.has_passed_quiz(student.id, "basics-quiz") is True  # highest counts
    at(3 * 3600)
    page = client.post("/quizzes/basics-quiz/start", follow_redirects=True).get_data(as_text=True)
    assert "You have used all 2 attempts at this quiz." in page

    login(client, instructor)
    response = client.post("/staff/quizzes/basics-quiz/overrides",
                           data={"student": student.email, "kind": "extra_attempt", "note": "illness"},
                           follow_redirects=True)  # fmt: skip
    assert "has one more attempt" in response.get_data(as_text=True)
    login(client, student)
    third = start(client)
    assert attempt(third).number == 3


def test_grading_by_last_attempt(app, client, login, student, tmp_path):
    at(0)
    setup_quiz(tmp_path, student, grading="last")
    login(client, student)
    _take_and_submit(client, {"q-goal": "c1", "q-pilot": "true", "q-roi": "roi"}, 0)
    assert operations.has_passed_quiz(student.id, "basics-quiz") is True
    _take_and_submit(client, {"q-goal": "c2"}, 60)
    assert operations.has_passed_quiz(student.id, "basics-quiz") is False


def test_a_closed_quiz_can_be_reopened_for_one_student(
    app, client, login, student, make_user, instructor, tmp_path
):
    at(0)
    setup_quiz(tmp_path, student, closes_at=(T0 - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
    login(client, student)
    assert "This quiz is closed." in client.get("/quizzes/basics-quiz").get_data(as_text=True)
    login(client, instructor)
    until = (T0 + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    client.post("/staff/quizzes/basics-quiz/overrides",
                data={"student": student.email, "kind": "reopen", "until": until})  # fmt: skip
    override = db.session.execute(sa.select(QuizOverride)).scalar_one()
    assert (override.kind, override.until, override.granted_by_id) == (
        "reopen",
        T0 + timedelta(hours=2),
        instructor.id,
    )
    login(client, student)
    attempt_id = start(client)
    assert attempt(attempt_id).deadline == T0 + timedelta(minutes=10)


# -- results and review policy ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("review", "shows_answer", "shows_feedback"),
    [("score_only", False, False), ("answers", True, False), ("correct_answers", True, True)],
)
def test_the_results_page_follows_the_review_policy(app, client, login, student, tmp_path, review, shows_answer,
                                                    shows_feedback):  # fmt: skip
    at(0)
    # One attempt, used: a module quiz holds its correct answers back only while attempts remain
    # (tests/test_quiz_review_policy.py).
    setup_quiz(tmp_path, student, review=review, attempts_allowed=1)
    login(client, student)
    attempt_id = _take_and_submit(client, {"q-goal": "c2", "q-roi": "my own words"}, 0)
    page = client.get(f"/quizzes/attempts/{attempt_id}/result").get_data(as_text=True)
    assert "0 of 5 points (0.0%)" in page
    assert ("my own words" in page) is shows_answer
    assert ("Platforms are tools." in page) is shows_feedback
    assert ("Goals first." in page) is shows_feedback


def test_review_after_close_waits_for_the_closing_time(app, client, login, student, tmp_path):
    at(0)
    closes = T0 + timedelta(hours=1)
    setup_quiz(tmp_path, student, review_after="close", closes_at=closes.strftime("%Y-%m-%dT%H:%M:%SZ"))
    login(client, student)
    attempt_id = _take_and_submit(client, {"q-roi": "my own words"}, 0)
    page = client.get(f"/quizzes/attempts/{attempt_id}/result").get_data(as_text=True)
    shown = re.sub(r"<[^>]+>", "", page)  # the time is a <time> element (lms.timezones)
    assert "my own words" not in page and "shown after the quiz closes (2030-01-07 11:00 UTC)" in shown
    at(3601)
    assert "my own words" in client.get(f"/quizzes/attempts/{attempt_id}/result").get_data(as_text=True)


# -- bad input -------------------------------------------------------------------------------------------------


# Saves the server refuses, with the status and a part of the message the student reads.
BAD_SAVES = [
    ({"question": "goal", "value": "c9", "seq": 1}, 422, "not one of this question's options"),
    ({"question": "nope", "value": "c1", "seq": 1}, 422, "not part of this attempt"),
    ({"question": "goal", "value": "c1", "seq": "one"}, 422, "no valid sequence number"),
    ({"question": "goal", "value": "c1", "seq": -1}, 422, "no valid sequence number"),
    ({"question": "goal", "value": "c1", "seq": 2**31}, 422, "no valid sequence number"),
    ({"value": "c1"}, 400, "Send JSON like"),
]


def assert_bad_saves_are_refused(client, attempt_id: int) -> None:
    for payload, status, fragment in BAD_SAVES:
        response = client.post(f"/quizzes/attempts/{attempt_id}/answers", json=payload)
        assert response.status_code == status, payload
        assert fragment in response.get_json()["message"], payload


def test_bad_saves_get_clear_json_errors_and_change_nothing(client, taking):
    at(10)
    assert_bad_saves_are_refused(client, taking)
    no_token = client.post(f"/quizzes/attempts/{taking}/answers", json={"question": "goal", "value": "c1", "seq": 1},
                           csrf=False)  # fmt: skip
    assert no_token.status_code == 400 and "expired" in no_token.get_json()["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AnswerSave)) == 0


def test_other_students_cannot_touch_an_attempt(client, login, make_user, taking):
    login(client, make_user())
    assert save(client, taking, "goal", "c1", 1).status_code == 404
    assert client.post(f"/quizzes/attempts/{taking}/submit", json={}).status_code == 404
    assert attempt(taking).state == "in_progress"


def test_quizzes_for_track_and_the_dashboard_panel(app, client, login, student, tmp_path):
    at(0)
    track = make_track()
    final = quiz_toml(kind="final", module=None, title="Final exam")
    load_quizzes(tmp_path / "quizzes", {"basics-quiz": quiz_toml(), "test-final": final,
                                        "advanced-quiz": quiz_toml(module="advanced", title="Advanced quiz")})  # fmt: skip
    statuses = operations.quizzes_for_track(track.id)
    assert [(s.quiz.slug, s.quiz.kind, s.label) for s in statuses] == [
        ("basics-quiz", "module", "Not started"),
        ("advanced-quiz", "module", "Not started"),
        ("test-final", "final", "Not started"),
    ]
    from tests.test_quiz_support import enrol

    enrol(student, track)
    login(client, student)
    attempt_id = start(client)
    assert operations.quizzes_for_track(track.id, student.id)[0].in_progress_id == attempt_id
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Your quizzes" in page and "Final exam" in page
    assert f"/quizzes/attempts/{attempt_id}" in page

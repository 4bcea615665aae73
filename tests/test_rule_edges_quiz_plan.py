"""Edges of the quiz rules that mutation testing showed no test pinned: attempt limits (unlimited, one extra
attempt), grace only in grace mode, the exact moments a quiz opens and closes, expired reopenings, the wait between
attempts, whose enrolment and grants count, extra time, the attempt in progress offered again, and what starting
an attempt fixes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.accounts.models import User
from lms.audit import AuditEvent
from lms.courses.models import Enrollment
from lms.errors import DomainError
from lms.extensions import db
from lms.quizzes.models import IN_PROGRESS, SUBMITTED, Attempt, Quiz
from lms.quizzes.operations import (
    AttemptPlan,
    grant_extra_attempt,
    is_overdue,
    plan_attempt,
    reopen_quiz_for,
    save_cutoff,
    start_attempt,
    submit_attempt,
    submit_cutoff,
)
from tests.test_quiz_support import enrol, load_quizzes, make_track, quiz_by_slug, quiz_toml, setup_quiz

T0 = datetime(2030, 1, 7, 10, 0, 0, tzinfo=UTC)
NETWORK_GRACE = timedelta(seconds=10)  # the default QUIZ_NETWORK_GRACE_SECONDS
STAMP = "%Y-%m-%dT%H:%M:%SZ"


@pytest.fixture(autouse=True)
def frozen(app) -> None:
    clock.freeze(T0)


def take(user: User, quiz: Quiz, now: datetime) -> Attempt:
    """Start an attempt at `now` and submit it a minute later."""
    attempt = start_attempt(user, quiz, now)
    return submit_attempt(user, attempt.id, {}, now=now + timedelta(minutes=1))


def refused(plan: AttemptPlan, reason: str) -> None:
    assert (plan.allowed, plan.reason) == (False, reason)


def state_of(attempt_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Attempt, attempt_id).state


# -- how many attempts -----------------------------------------------------------------------------------------


def test_an_unlimited_quiz_allows_a_fourth_attempt_after_three(tmp_path, student, instructor):
    quiz = setup_quiz(tmp_path, student, attempts_allowed=0)
    for hour in range(3):
        take(student, quiz, T0 + timedelta(hours=hour))
    grant_extra_attempt(instructor, quiz, student)  # a grant does not put a limit on an unlimited quiz
    plan = plan_attempt(student, quiz, T0 + timedelta(hours=3))
    assert (plan.allowed, plan.reason, plan.attempts_allowed, plan.attempts_left) == (True, None, 0, None)
    assert len(plan.attempts) == 3


def test_the_plan_counts_the_attempts_left(tmp_path, student):
    quiz = setup_quiz(tmp_path, student, attempts_allowed=3)
    plan = plan_attempt(student, quiz, T0)
    assert (plan.allowed, plan.attempts_allowed, plan.attempts_left) == (True, 3, 3)
    take(student, quiz, T0)
    assert plan_attempt(student, quiz, T0 + timedelta(hours=1)).attempts_left == 2


def test_one_extra_attempt_grant_gives_exactly_one_more(tmp_path, student, instructor):
    quiz = setup_quiz(tmp_path, student, attempts_allowed=1)
    take(student, quiz, T0)
    refused(plan_attempt(student, quiz, T0 + timedelta(hours=1)), "You have used all 1 attempt at this quiz.")

    grant_extra_attempt(instructor, quiz, student, note="illness")
    plan = plan_attempt(student, quiz, T0 + timedelta(hours=1))
    assert (plan.allowed, plan.attempts_allowed, plan.attempts_left) == (True, 2, 1)
    take(student, quiz, T0 + timedelta(hours=1))
    refused(
        plan_attempt(student, quiz, T0 + timedelta(hours=2)), "You have used all 2 attempts at this quiz."
    )


# -- deadlines -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on_expiry", "grace"), [("auto_submit", timedelta(0)), ("grace", timedelta(minutes=2))]
)
def test_grace_applies_only_in_grace_mode(tmp_path, student, on_expiry, grace):
    quiz = setup_quiz(tmp_path, student, on_expiry=on_expiry, grace_seconds=120)
    attempt = start_attempt(student, quiz, T0)
    cutoff = attempt.deadline + NETWORK_GRACE + grace
    assert submit_cutoff(attempt) == cutoff
    assert save_cutoff(attempt) == attempt.deadline + NETWORK_GRACE  # a save never gets the quiz's grace
    assert is_overdue(attempt, cutoff) is False  # the cutoff itself is still in time
    assert is_overdue(attempt, cutoff + timedelta(microseconds=1)) is True


def test_planning_later_finalizes_an_attempt_whose_time_ran_out_by_then(tmp_path, student):
    quiz = setup_quiz(tmp_path, student)
    attempt = start_attempt(student, quiz, T0)  # the clock stays at T0: only the time given counts
    plan = plan_attempt(student, quiz, T0 + timedelta(hours=1))
    assert plan.in_progress is None and plan.allowed is True
    assert state_of(attempt.id) == SUBMITTED


def test_planning_finalizes_only_the_planners_attempts_at_this_quiz(tmp_path, student, make_user):
    track = make_track()
    load_quizzes(
        tmp_path / "quizzes",
        {"first": quiz_toml(), "second": quiz_toml(title="Second quiz", module="advanced")},
    )
    classmate = make_user(full_name="Carl Classmate")
    enrol(student, track)
    enrol(classmate, track)
    first, second = quiz_by_slug("first"), quiz_by_slug("second")
    own = start_attempt(student, first, T0)
    own_elsewhere = start_attempt(student, second, T0)
    classmates = start_attempt(classmate, first, T0)

    plan_attempt(student, first, T0 + timedelta(hours=1))
    assert state_of(own.id) == SUBMITTED
    assert state_of(own_elsewhere.id) == IN_PROGRESS  # finalized when that quiz (or its student) looks
    assert state_of(classmates.id) == IN_PROGRESS


# -- opening and closing times ---------------------------------------------------------------------------------


def test_a_quiz_that_opens_in_the_future_says_when_and_opens_at_that_moment(tmp_path, student):
    opens = datetime(2030, 1, 8, 9, 0, tzinfo=UTC)
    quiz = setup_quiz(tmp_path, student, opens_at=opens.strftime(STAMP))
    refused(plan_attempt(student, quiz, T0), "This quiz opens on 2030-01-08 at 09:00 UTC.")
    refused(
        plan_attempt(student, quiz, opens - timedelta(seconds=1)),
        "This quiz opens on 2030-01-08 at 09:00 UTC.",
    )
    assert plan_attempt(student, quiz, opens).allowed is True


def test_a_quiz_is_closed_from_its_closing_moment_and_has_no_time_left_just_before(tmp_path, student):
    closes = T0 + timedelta(hours=1)
    quiz = setup_quiz(tmp_path, student, closes_at=closes.strftime(STAMP))
    refused(plan_attempt(student, quiz, closes), "This quiz is closed.")
    refused(
        plan_attempt(student, quiz, closes - timedelta(milliseconds=500)),
        "This quiz is closing: there is no time left for an attempt.",
    )
    last_second = plan_attempt(student, quiz, closes - timedelta(seconds=1))
    assert (last_second.allowed, last_second.seconds, last_second.cut_by_close) == (True, 1, True)


def test_an_attempt_whose_full_time_ends_exactly_at_closing_is_not_cut(tmp_path, student):
    closes = T0 + timedelta(minutes=10)  # the quiz's time limit is 10 minutes
    quiz = setup_quiz(tmp_path, student, closes_at=closes.strftime(STAMP))
    plan = plan_attempt(student, quiz, T0)
    assert (plan.allowed, plan.seconds, plan.cut_by_close) == (True, 600, False)
    cut = plan_attempt(student, quiz, T0 + timedelta(seconds=1))
    assert (cut.seconds, cut.cut_by_close) == (599, True)


@pytest.mark.parametrize("after_end", [timedelta(0), timedelta(hours=1)])
def test_an_expired_reopening_leaves_the_quizs_own_times(tmp_path, student, instructor, after_end):
    quiz = setup_quiz(tmp_path, student, closes_at=(T0 + timedelta(days=30)).strftime(STAMP))
    until = T0 + timedelta(hours=2)
    reopen_quiz_for(instructor, quiz, student, until, now=T0)
    assert plan_attempt(student, quiz, T0).closes_at == until  # while it lasts, it sets the closing time
    plan = plan_attempt(student, quiz, until + after_end)
    assert (plan.allowed, plan.closes_at) == (True, T0 + timedelta(days=30))


def test_a_student_outside_the_track_is_told_to_enrol(tmp_path, student, make_user):
    quiz = setup_quiz(tmp_path, student)
    refused(plan_attempt(make_user(), quiz, T0), "Enrol in this quiz's track to take it.")


# -- the attempt in progress -----------------------------------------------------------------------------------


def test_an_attempt_in_progress_is_offered_to_resume(tmp_path, client, login, student):
    quiz = setup_quiz(tmp_path, student)
    attempt = start_attempt(student, quiz, T0)
    plan = plan_attempt(student, quiz, T0 + timedelta(minutes=1))
    assert (plan.allowed, plan.reason) == (True, None)
    assert plan.in_progress is not None and plan.in_progress.id == attempt.id

    login(client, student)
    page = client.get("/quizzes/basics-quiz").get_data(as_text=True)
    assert f'href="/quizzes/attempts/{attempt.id}">Resume your attempt</a>' in page
    assert "Start the quiz" not in page


def test_an_attempt_in_progress_is_offered_even_once_the_attempts_are_used_up(tmp_path, student):
    quiz = setup_quiz(tmp_path, student, attempts_allowed=1)
    attempt = start_attempt(student, quiz, T0)
    plan = plan_attempt(student, quiz, T0 + timedelta(minutes=1))
    assert (plan.allowed, plan.reason, plan.attempts_left) == (True, None, 0)
    assert plan.in_progress is not None and plan.in_progress.id == attempt.id


# -- the wait between attempts ---------------------------------------------------------------------------------


def test_the_next_attempt_waits_for_the_delay_and_starts_at_its_end(tmp_path, student):
    quiz = setup_quiz(tmp_path, student, delay_between_attempts_minutes=60)
    take(student, quiz, T0)  # submitted at 10:01
    plan = plan_attempt(student, quiz, T0 + timedelta(minutes=30))
    refused(plan, "You can start your next attempt on 2030-01-07 at 11:01 UTC (in 31 minutes).")
    assert plan.next_start_at == T0 + timedelta(minutes=61)
    end_of_wait = plan_attempt(student, quiz, T0 + timedelta(minutes=61))
    assert (end_of_wait.allowed, end_of_wait.next_start_at) == (True, None)


# -- whose enrolment and whose grants count --------------------------------------------------------------------


def test_only_a_current_enrolment_in_the_quizs_own_track_counts(tmp_path, student, make_user):
    quiz = setup_quiz(tmp_path, student)
    elsewhere = make_user()
    enrol(elsewhere, make_track(slug="other-track"))
    refused(plan_attempt(elsewhere, quiz, T0), "Enrol in this quiz's track to take it.")
    db.session.execute(sa.update(Enrollment).where(Enrollment.user_id == student.id).values(left_at=T0))
    db.session.commit()
    refused(plan_attempt(student, quiz, T0), "Enrol in this quiz's track to take it.")


def test_grants_count_only_for_their_own_quiz_and_student(tmp_path, student, instructor, make_user):
    track = make_track()
    load_quizzes(
        tmp_path / "quizzes",
        {"first": quiz_toml(attempts_allowed=1), "second": quiz_toml(title="Second quiz", module="advanced")},
    )
    classmate = make_user(full_name="Carl Classmate")
    enrol(student, track)
    enrol(classmate, track)
    first, second = quiz_by_slug("first"), quiz_by_slug("second")
    take(student, first, T0)
    grant_extra_attempt(instructor, second, student)
    grant_extra_attempt(instructor, first, classmate)
    reopen_quiz_for(instructor, second, student, T0 + timedelta(hours=2), now=T0)
    plan = plan_attempt(student, first, T0 + timedelta(hours=1))
    refused(plan, "You have used all 1 attempt at this quiz.")
    assert plan.closes_at is None


# -- extra time ------------------------------------------------------------------------------------------------


def test_an_accommodation_multiplies_the_time_and_the_attempt_keeps_it(tmp_path, student):
    student.accommodation_factor = 1.5
    db.session.commit()
    quiz = setup_quiz(tmp_path, student)
    plan = plan_attempt(student, quiz, T0)
    assert (plan.seconds, plan.base_seconds, plan.factor, plan.extended) == (900, 600, 1.5, True)
    attempt = start_attempt(student, quiz, T0)
    assert (attempt.deadline, attempt.accommodation_factor, attempt.time_limit_seconds) == (
        T0 + timedelta(minutes=15),
        1.5,
        600,
    )


# -- starting --------------------------------------------------------------------------------------------------


def test_starting_fixes_what_the_plan_said_and_records_it(tmp_path, student):
    closes = T0 + timedelta(minutes=8)
    quiz = setup_quiz(
        tmp_path, student, draw=3, on_expiry="grace", grace_seconds=30, closes_at=closes.strftime(STAMP)
    )
    begun = T0 + timedelta(minutes=2)  # the time given, not the clock's (still at T0)
    attempt = start_attempt(student, quiz, begun)
    stored = (attempt.number, attempt.state, attempt.started_at, attempt.deadline, attempt.cut_by_close)
    assert stored == (1, IN_PROGRESS, begun, closes, True)
    assert (attempt.on_expiry, attempt.grace_seconds, attempt.user_id, attempt.quiz_id) == (
        "grace",
        30,
        student.id,
        quiz.id,
    )
    # Three of the four questions, in the file's order (no shuffling asked), each with its choices in order.
    order = ["goal", "pick", "pilot", "roi"]
    shown = [entry["question"] for entry in attempt.layout]
    assert len(shown) == 3 and shown == sorted(shown, key=order.index)
    every_choice = {"goal": ["c1", "c2"], "pick": ["c1", "c2", "c3"], "pilot": [], "roi": []}
    assert [entry["choices"] for entry in attempt.layout] == [every_choice[question] for question in shown]

    event = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "quiz.attempt_started")
    ).scalar_one()
    assert (event.actor_id, event.subject_type, event.subject_id) == (
        student.id,
        "quiz_attempt",
        str(attempt.id),
    )
    assert event.data == {"quiz": "basics-quiz", "version": 1, "deadline": closes.isoformat(), "factor": 1.0}


def test_shuffling_keeps_every_question_and_every_choice(tmp_path, student):
    quiz = setup_quiz(tmp_path, student, shuffle_questions=True, shuffle_choices=True)
    attempt = start_attempt(student, quiz, T0)
    every_choice = {"goal": ["c1", "c2"], "pick": ["c1", "c2", "c3"], "pilot": [], "roi": []}
    assert sorted(entry["question"] for entry in attempt.layout) == sorted(every_choice)
    for entry in attempt.layout:
        assert sorted(entry["choices"]) == every_choice[entry["question"]]


def test_starting_again_returns_the_attempt_in_progress(tmp_path, student):
    quiz = setup_quiz(tmp_path, student)
    first = start_attempt(student, quiz, T0)
    assert start_attempt(student, quiz, T0 + timedelta(minutes=1)).id == first.id
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 1


def test_a_refused_start_says_why_and_stores_nothing(tmp_path, student):
    quiz = setup_quiz(tmp_path, student, attempts_allowed=1)
    take(student, quiz, T0)
    with pytest.raises(DomainError) as refusal:
        start_attempt(student, quiz, T0 + timedelta(hours=1))
    assert refusal.value.message == "You have used all 1 attempt at this quiz."
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attempt)) == 1

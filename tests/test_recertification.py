"""Recertification: renewing asks for fresh evidence, the track's recertification exam passed after the renewal window
opened. The exam opens to a holder only inside the window; earlier passes (of the final, or of the exam for an
earlier renewal) do not count; the renewal page says what is required and links to the exam."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.certificates import operations
from lms.certificates.models import Certificate
from lms.courses.models import Track
from lms.extensions import db
from lms.quizzes import operations as quiz_operations
from tests.test_quiz_attempts import T0, at, start
from tests.test_quiz_support import add_lessons, complete_lessons, enrol, load_quizzes, make_track, quiz_toml

PASSING = {"q-goal": "c1", "q-pilot": "true", "q-roi": "roi"}  # 3 of 5 points: the 60 % pass mark
FAILING = {"q-goal": "c2"}


def take(client, slug: str, answers: dict) -> None:
    attempt_id = start(client, slug)
    response = client.post(
        f"/quizzes/attempts/{attempt_id}/submit", data={**answers, "confirm": "unanswered"}
    )
    assert response.status_code == 302


def the_certificate() -> Certificate:
    db.session.expire_all()
    return db.session.execute(sa.select(Certificate)).scalar_one()


@pytest.fixture
def track(app, tmp_path, student) -> Track:
    """A track certified by its final exam (24 months), with a recertification exam of two attempts."""
    at(0)
    track = make_track()
    track.completion = {"quizzes": ["test-final"]}
    db.session.commit()
    add_lessons(track, per_module=1)
    load_quizzes(
        tmp_path / "quizzes",
        {
            "test-final": quiz_toml(kind="final", module=None, title="Final exam"),
            "test-recert": quiz_toml(
                kind="recertification", module=None, title="Recertification exam", attempts_allowed=2
            ),
        },
    )
    enrol(student, track)
    complete_lessons(student, track)
    return track


@pytest.fixture
def certified(client, login, student, track) -> Certificate:
    login(client, student)
    take(client, "test-final", PASSING)
    return the_certificate()


def test_the_exam_opens_only_to_a_holder_inside_the_renewal_window(
    client, login, make_user, certified, track
):
    expires = certified.current.expires_at
    opens = expires - timedelta(days=60)
    clock.freeze(opens - timedelta(days=1))
    page = client.get("/quizzes/test-recert").get_data(as_text=True)
    assert f"The recertification exam opens on {opens:%d %B %Y}" in page
    assert f'href="/certificates/{certified.display_code}"' in page
    assert client.post("/quizzes/test-recert/start").status_code == 403

    clock.freeze(opens)
    assert "Start the quiz" in client.get("/quizzes/test-recert").get_data(as_text=True)

    other = make_user()
    enrol(other, track)
    login(client, other)
    page = client.get("/quizzes/test-recert").get_data(as_text=True)
    assert "The recertification exam is for holders of this track" in page
    assert client.post("/quizzes/test-recert/start").status_code == 403


def test_renewal_needs_a_pass_of_the_exam_in_the_window(client, certified):
    code = certified.display_code
    expires = certified.current.expires_at
    clock.freeze(expires - timedelta(days=90))
    page = client.get(f"/certificates/{code}").get_data(as_text=True)
    assert "Renewing asks you to pass the recertification exam “Recertification exam”" in page

    clock.freeze(expires - timedelta(days=59))
    page = client.get(f"/certificates/{code}").get_data(as_text=True)
    assert "What renewing asks for" in page
    assert 'href="/quizzes/test-recert">Recertification exam</a>' in page
    assert "Earlier passes (of the final exam" in page and "Still to do" in page
    refused = client.post(f"/certificates/{code}/renew")
    message = client.get(refused.location).get_data(as_text=True)
    assert (
        "To renew, first show fresh evidence." in message
    )  # the final passed at the first issue does not count
    assert the_certificate().current.number == 1

    take(client, "test-recert", FAILING)
    client.post(f"/certificates/{code}/renew")
    assert the_certificate().current.number == 1

    clock.freeze(expires - timedelta(days=58))
    take(client, "test-recert", PASSING)
    page = client.get(f"/certificates/{code}").get_data(as_text=True)
    passed_on = (expires - timedelta(days=58)).strftime("%d %B %Y")
    words = re.sub(r"<[^>]+>", "", page)  # the date is in a <time> element (times on the reader's clock)
    assert f"Passed on {passed_on}" in words and "Everything renewal asks for is in place." in page
    client.post(f"/certificates/{code}/renew")
    renewed = the_certificate()
    assert renewed.current.number == 2 and renewed.events[-1].action == "renewed"
    assert renewed.current.expires_at == operations.add_months(expires - timedelta(days=58), 24)


def test_a_pass_before_the_window_opened_does_not_count(client, certified):
    """The pass that renewed once is older than the next window: the next renewal needs a new one."""
    code = certified.display_code
    first_expiry = certified.current.expires_at
    clock.freeze(first_expiry - timedelta(days=30))
    take(client, "test-recert", PASSING)
    client.post(f"/certificates/{code}/renew")
    renewed = the_certificate()
    assert renewed.current.number == 2
    evidence = operations.fresh_evidence(renewed)
    assert evidence.required and not evidence.met and evidence.passed_at is None
    assert evidence.window_opens == renewed.current.expires_at - timedelta(days=60)

    clock.freeze(evidence.window_opens + timedelta(days=1))
    refused = client.post(f"/certificates/{code}/renew")
    assert "To renew, first show fresh evidence." in client.get(refused.location).get_data(as_text=True)
    assert the_certificate().current.number == 2


def test_attempts_count_per_renewal_window(client, student, certified):
    exam = quiz_operations.get_quiz("test-recert")
    expires = certified.current.expires_at
    clock.freeze(expires - timedelta(days=59))
    take(client, "test-recert", FAILING)
    take(client, "test-recert", PASSING)
    plan = quiz_operations.plan_attempt(student, exam)
    assert not plan.allowed and plan.attempts_used == 2
    assert f"You have used all 2 attempts at this quiz since {expires - timedelta(days=60):%d %B %Y}." in (
        plan.reason or ""
    )
    client.post(f"/certificates/{certified.display_code}/renew")
    renewed = the_certificate()
    clock.freeze(renewed.current.expires_at - timedelta(days=10))
    plan = quiz_operations.plan_attempt(student, exam)
    assert plan.allowed and plan.attempts_used == 0 and plan.attempts_left == 2


def test_a_track_without_the_exam_renews_on_its_rule(client, certified):
    quiz_operations.get_quiz("test-recert").retired_at = T0
    db.session.commit()
    evidence = operations.fresh_evidence(certified)
    assert not evidence.required and evidence.met and evidence.in_words == ""
    clock.freeze(certified.current.expires_at - timedelta(days=10))
    client.post(f"/certificates/{certified.display_code}/renew")
    assert the_certificate().current.number == 2


def test_the_exam_is_never_part_of_the_completion_rule(track):
    assert quiz_operations.assessed_quiz_slugs(track.id) == ["test-final"]
    assert quiz_operations.recertification_exam(track.id).slug == "test-recert"

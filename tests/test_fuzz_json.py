"""The JSON endpoints under fuzzing (hypothesis): malformed JSON, wrong types, huge and deep bodies, unknown
questions, another student's attempt. Every answer is a 2xx or a 4xx with a JSON error and message, never a 5xx,
and a refused request stores nothing."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lms.extensions import db
from lms.quizzes.models import AnswerSave, Attempt
from tests.conftest import sign_in

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
QUESTIONS = ["goal", "channels", "pilot", "roi"]  # the sample quiz's questions (tests/test_quiz_support.py)

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
answers = st.fixed_dictionaries(
    {
        "question": st.sampled_from([*QUESTIONS, "no-such-question", "", "GOAL"]) | json_values,
        "value": st.sampled_from(["c1", "c2", "true", "ROI", ["c1", "c2"], None]) | json_values,
        "seq": st.integers(min_value=-5, max_value=2**40) | json_values,
    },
    optional={"given_at_ms": st.integers() | st.floats() | json_values},
)
bodies = (
    answers.map(json.dumps).map(str.encode)
    | json_values.map(json.dumps).map(str.encode)
    | st.binary(max_size=300)
    | st.sampled_from([b"", b"{", b"nul", b'{"question": "goal", "value": NaN, "seq": 1}', b"[1]", b'"x"'])
)


def post_raw(client, path: str, body: bytes, token: str) -> Any:
    return client.post(
        path,
        data=body,
        headers={"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": token},
        csrf=False,
    )


def assert_clear_answer(response: Any) -> dict[str, Any]:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    document = response.get_json(silent=True)
    if response.status_code >= 400:
        assert isinstance(document, dict), response.get_data(as_text=True)[:300]
        assert isinstance(document.get("error"), str) and document["error"]
        assert isinstance(document.get("message"), str) and document["message"]
    return document or {}


def saves_of(attempt_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(sa.select(sa.func.count()).where(AnswerSave.attempt_id == attempt_id)) or 0


def state_of(attempt_id: int) -> tuple[Any, ...]:
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    return attempt.state, attempt.deadline, attempt.submitted_at, attempt.score


@pytest.fixture
def owner(client, samples):
    sign_in(client, samples.student)
    return client, client.csrf_token()


@pytest.fixture
def intruder(app, samples):
    other = app.test_client()
    sign_in(other, samples.other_student)
    return other, other.csrf_token()


@FUZZ
@given(body=bodies)
def test_autosave_answers_clearly_and_stores_only_what_it_acknowledges(owner, samples, body):
    client, token = owner
    before = saves_of(samples.attempt_id)
    response = post_raw(client, f"/quizzes/attempts/{samples.attempt_id}/answers", body, token)
    document = assert_clear_answer(response)
    if response.status_code == 200:
        assert document["ok"] is True and document["question"] in QUESTIONS
        assert saves_of(samples.attempt_id) == before + 1
    else:
        assert saves_of(samples.attempt_id) == before


@FUZZ
@given(body=bodies, target=st.sampled_from(["own-in-progress", "own-done", "unknown"]))
def test_another_students_attempt_is_never_touched(intruder, samples, body, target):
    client, token = intruder
    attempt_id = {
        "own-in-progress": samples.attempt_id,
        "own-done": samples.done_attempt_id,
        "unknown": 999_999,
    }[target]
    watched = [samples.attempt_id, samples.done_attempt_id]
    before = [(saves_of(a), state_of(a)) for a in watched]
    for path in (f"/quizzes/attempts/{attempt_id}/answers", f"/quizzes/attempts/{attempt_id}/submit"):
        response = post_raw(client, path, body, token)
        assert_clear_answer(response)
        # 422: a save without a valid sequence number is refused before the attempt is even looked up.
        assert response.status_code in {400, 404, 413, 422}, (path, response.status_code)
    clock = client.get(f"/quizzes/attempts/{attempt_id}/clock", headers={"Accept": "application/json"})
    assert clock.status_code == 404
    assert [(saves_of(a), state_of(a)) for a in watched] == before


@FUZZ
@given(body=bodies)
def test_submitting_a_finished_attempt_again_changes_nothing(owner, samples, body):
    client, token = owner
    before = state_of(samples.done_attempt_id), saves_of(samples.done_attempt_id)
    response = post_raw(client, f"/quizzes/attempts/{samples.done_attempt_id}/submit", body, token)
    assert_clear_answer(response)
    assert response.status_code in {200, 400, 409, 413}, response.status_code  # 200: already submitted, as is
    after = state_of(samples.done_attempt_id), saves_of(samples.done_attempt_id)
    assert after == before


@FUZZ
@given(code=st.text(max_size=40))
def test_verification_json_answers_any_code_clearly(client, samples, code):
    response = client.get(f"/verify/{quote(code, safe='')}.json", headers={"Accept": "application/json"})
    if response.status_code in {301, 308}:
        return  # a well-formed code in another spelling goes to its canonical address
    assert_clear_answer(response)
    assert response.status_code in {200, 400, 404, 405, 410}, response.status_code


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (
            json.dumps({"question": "roi", "value": "x" * 600_000, "seq": 1}).encode(),
            413,
        ),  # above the JSON limit
        (b"[" * 200_000 + b"]" * 200_000, 413),
        (b"[" * 50_000 + b"]" * 50_000, 400),  # small, but too deep for the parser
        (b'{"question": "roi", "value": ' + b"1" * 5000 + b', "seq": 1}', 400),  # a number too long to read
        (json.dumps({"question": "roi", "value": "y" * 5000, "seq": 1}).encode(), 422),  # too long an answer
    ],
    ids=["huge", "huge-and-deep", "deep", "long-number", "long-answer"],
)
def test_huge_and_deep_bodies_are_refused_with_a_clear_error(owner, samples, body, status):
    client, token = owner
    before = saves_of(samples.attempt_id), state_of(samples.attempt_id)
    for path in (f"/quizzes/attempts/{samples.attempt_id}/answers",):
        response = post_raw(client, path, body, token)
        assert_clear_answer(response)
        assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert (saves_of(samples.attempt_id), state_of(samples.attempt_id)) == before


def test_deep_json_to_submit_is_refused_and_the_attempt_stays_open(owner, samples):
    client, token = owner
    response = post_raw(
        client, f"/quizzes/attempts/{samples.attempt_id}/submit", b"[" * 50_000 + b"]" * 50_000, token
    )
    assert_clear_answer(response)
    assert response.status_code == 400
    assert state_of(samples.attempt_id)[0] == "in_progress"

"""With the database down, pages answer 503 with a friendly page and the request id, never a 500."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from lms import create_app
from lms.database import dispose_engines, statement_engine
from lms.extensions import db
from tests import test_quiz_attempts
from tests.conftest import PG_URL, sign_in
from tests.test_quiz_attempts import at

quiz, taking = test_quiz_attempts.quiz, test_quiz_attempts.taking

UNREACHABLE = {
    "sqlite": "sqlite:////nonexistent-folder/for-sure/lms.sqlite3",  # cannot be opened
    "postgresql": "postgresql+psycopg://nobody@127.0.0.1:1/none",  # nothing listens there
}


@pytest.fixture
def outage(app, backend):
    broken = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": UNREACHABLE[backend]})
    yield broken
    with broken.app_context():
        dispose_engines(db.engine)


def test_a_signed_in_page_answers_503_with_the_request_id(outage, student):
    client = sign_in(outage.test_client(), student)
    response = client.get("/dashboard", headers={"X-Request-ID": "outage12345"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    page = response.get_data(as_text=True)
    assert "cannot reach its database" in page and "outage12345" in page
    assert response.headers["X-Request-ID"] == "outage12345"


def test_json_callers_get_a_503_in_json(outage, student):
    client = sign_in(outage.test_client(), student)
    response = client.get("/dashboard", headers={"Accept": "application/json"})
    assert response.status_code == 503
    assert response.get_json() == {
        "error": "Temporarily unavailable",
        "message": "The site cannot reach its database just now. Your request was not carried out.",
        "status": 503,
    }


def test_signing_in_during_an_outage_answers_503(app, backend):
    broken = create_app(
        {**app.config, "SQLALCHEMY_DATABASE_URI": UNREACHABLE[backend], "WTF_CSRF_ENABLED": False}
    )
    try:
        response = broken.test_client().post(
            "/login", data={"email": "someone@example.org", "password": "a-password-here"}
        )
        assert response.status_code == 503
        assert "cannot reach its database" in response.get_data(as_text=True)
    finally:
        with broken.app_context():
            dispose_engines(db.engine)


# -- a connection the database dropped (a restart, a failover, an administrator) -----------------------------------


def _terminate_the_apps_connections(app, pids: set[int]) -> None:
    """pg_terminate_backend of every connection the app's two pools (the session's and single statements') have
    handed out, as a database restart would drop them, while they sit in their pools."""
    killer = sa.create_engine(PG_URL)
    try:
        with killer.connect() as conn:
            for pid in pids:
                conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        killer.dispose()
    pids.clear()


def stored(app, attempt_id: int) -> list[tuple[str, int]]:
    """The saves stored, read on a connection of the test's own (the app's pools may hold dropped ones)."""
    reader = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with reader.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT question_id, seq FROM quiz_answer_saves WHERE attempt_id = :a"),
                {"a": attempt_id},
            )
            return sorted((question, seq) for question, seq in rows)
    finally:
        reader.dispose()


def save(client, attempt_id: int, question: str, value, seq: int):
    """An autosave as quiz.js sends it, with the page's CSRF token (fetched before the database goes away)."""
    token = getattr(client, "_page_token", None) or client.csrf_token()
    client._page_token = token
    payload = {"question": question, "value": value, "seq": seq}
    return client.post(
        f"/quizzes/attempts/{attempt_id}/answers", json=payload, headers={"X-CSRFToken": token}
    )


@pytest.fixture
def backends_of(app):
    """The server process ids of the connections the app's pools hand out (recorded at each checkout)."""
    pids: set[int] = set()

    def record(dbapi_connection, _record, _proxy) -> None:
        pids.add(dbapi_connection.info.backend_pid)

    engines = {db.engine, statement_engine()}
    for engine in engines:
        sa.event.listen(engine, "checkout", record)
    yield pids
    for engine in engines:
        sa.event.remove(engine, "checkout", record)


@pytest.mark.app_config(
    DATABASE_IDLE_PING_SECONDS=0
)  # no ping before use: the request meets the dead connection
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_dropped_connection_answers_503_then_the_pool_reconnects(app, client, taking, backends_of):
    at(5)
    assert (
        save(client, taking, "goal", "c1", 1).status_code == 200
    )  # the attempt is known: one statement next
    assert save(client, taking, "pilot", True, 2).get_json()["current"] is True
    assert client.get("/dashboard").status_code == 200
    assert backends_of
    for request in ("autosave", "page"):
        _terminate_the_apps_connections(app, backends_of)
        if request == "autosave":  # the one-statement save on its autocommit pool
            first = save(client, taking, "pilot", False, 3)
            assert first.status_code == 503, first.status_code  # JSON, and when to retry: quiz.js retries it
            assert first.headers["Retry-After"] == "30" and first.get_json()["status"] == 503
            again = save(client, taking, "pilot", False, 3)  # the pool was invalidated: a new connection
            assert again.status_code == 200 and again.get_json()["current"] is True, again.get_json()
            assert stored(app, taking) == [("goal", 1), ("pilot", 2), ("pilot", 3)]
        else:
            first = client.get("/dashboard")
            assert first.status_code == 503 and "cannot reach its database" in first.get_data(as_text=True)
            assert client.get("/dashboard").status_code == 200


@pytest.mark.app_config(DATABASE_IDLE_PING_SECONDS=0.05)
@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_connection_dropped_while_idle_is_replaced_before_the_save(app, client, taking, backends_of):
    at(5)
    assert save(client, taking, "goal", "c1", 1).status_code == 200
    assert client.get("/dashboard").status_code == 200
    _terminate_the_apps_connections(app, backends_of)
    time.sleep(0.2)  # idle longer than DATABASE_IDLE_PING_SECONDS: pinged at checkout, and replaced
    assert save(client, taking, "pilot", True, 2).status_code == 200
    assert client.get("/dashboard").status_code == 200
    assert stored(app, taking) == [("goal", 1), ("pilot", 2)]

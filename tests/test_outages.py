"""With the database down, pages answer 503 with a friendly page and the request id, never a 500."""

from __future__ import annotations

import pytest

from lms import create_app
from lms.database import dispose_engines
from lms.extensions import db
from tests.conftest import sign_in

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

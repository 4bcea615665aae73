"""API tokens: created by admins on /admin/api-tokens, shown once, kept hashed, revocable, with an expiry and
scopes; the last use is shown and written at most once a minute. The API takes tokens only, never cookies."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.api import tokens
from lms.api.models import ApiToken
from lms.audit import AuditEvent
from lms.extensions import db
from tests.api_support import bearer, is_problem, make_token
from tests.conftest import sign_in


def _stored() -> ApiToken:
    return db.session.execute(sa.select(ApiToken)).scalar_one()


def test_an_admin_creates_a_token_shown_once_and_stored_hashed(client, admin):
    sign_in(client, admin)
    expires = (clock.now_utc() + timedelta(days=90)).date().isoformat()
    response = client.post(
        "/admin/api-tokens",
        data={"name": "HR system", "scopes": ["users:read", "results:read"], "expires_on": expires},
    )
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    secret = re.search(r'value="(lms_[A-Za-z0-9_-]{43})"', response.get_data(as_text=True)).group(1)

    token = _stored()
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr([getattr(token, c.key) for c in ApiToken.__table__.columns])
    assert token.scopes == ["users:read", "results:read"] and token.owner_id == admin.id
    assert db.session.scalar(sa.select(AuditEvent.action).where(AuditEvent.subject_type == "api_token")) == (
        "api_token.created"
    )

    page = client.get("/admin/api-tokens").get_data(as_text=True)
    assert secret not in page  # never again
    assert secret[:12] in page and "HR system" in page and "never" in page  # its start, and no use yet
    assert client.get("/api/v1/users", headers=bearer(secret)).status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "scopes": ["users:read"]}, "Name the token"),
        ({"name": "X", "scopes": []}, "Choose at least one scope."),
        ({"name": "X", "scopes": ["users:read"], "expires_on": "2001-01-01"}, "in the future"),
        ({"name": "X", "scopes": ["users:read"], "expires_on": "2099-01-01"}, "within three years"),
        ({"name": "X", "scopes": ["everything"]}, "is not a valid choice"),
    ],
)
def test_a_token_needs_a_name_a_known_scope_and_a_near_future_expiry(client, admin, data, message):
    sign_in(client, admin)
    data.setdefault("expires_on", (clock.now_utc() + timedelta(days=30)).date().isoformat())
    response = client.post("/admin/api-tokens", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_a_revoked_token_is_refused_with_401(client, admin):
    secret = make_token(admin)
    sign_in(client, admin)
    response = client.post(f"/admin/api-tokens/{_stored().id}/revoke")
    assert response.status_code == 303
    body = is_problem(client.get("/api/v1/users", headers=bearer(secret)), 401)
    assert "not valid" in body["detail"]
    assert client.get("/api/v1/users", headers=bearer(secret)).headers["WWW-Authenticate"] == (
        'Bearer realm="lms", error="invalid_token"'
    )
    assert "revoked" in client.get("/admin/api-tokens").get_data(as_text=True)


def test_an_expired_token_is_refused(client, admin):
    secret = make_token(admin, days=2)
    assert client.get("/api/v1/users", headers=bearer(secret)).status_code == 200
    clock.freeze(clock.now_utc() + timedelta(days=3))
    is_problem(client.get("/api/v1/users", headers=bearer(secret)), 401)


def test_a_token_stops_working_when_its_admin_is_deactivated_or_demoted(client, admin, make_user):
    from lms.accounts import operations as accounts
    from lms.accounts.models import Role

    other_admin = make_user(Role.ADMIN)
    secret = make_token(other_admin)
    assert client.get("/api/v1/users", headers=bearer(secret)).status_code == 200
    accounts.deactivate_user(admin, other_admin)
    db.session.commit()
    is_problem(client.get("/api/v1/users", headers=bearer(secret)), 401)


@pytest.mark.parametrize(
    "header", ["", "Bearer", "Bearer lms_unknown", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 500, "bearer lms_"]
)
def test_missing_or_malformed_credentials_are_a_401_problem(client, header):
    response = client.get("/api/v1/certificates", headers={"Authorization": header} if header else {})
    body = is_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="lms"')
    assert body["instance"] == "/api/v1/certificates"


def test_a_token_without_the_scope_gets_a_403_naming_it(client, admin):
    secret = make_token(admin, scopes=["certificates:read"])
    body = is_problem(client.get("/api/v1/users", headers=bearer(secret)), 403)
    assert body["required_scope"] == "users:read" and "users:read" in body["detail"]
    write = client.post(
        "/api/v1/users", json={"email": "a@example.org", "full_name": "A"}, headers=bearer(secret), csrf=False
    )
    assert is_problem(write, 403)["required_scope"] == "users:write"
    assert client.get("/api/v1/certificates", headers=bearer(secret)).status_code == 200


def test_the_last_use_is_written_at_most_once_a_minute(client, admin):
    secret = make_token(admin)
    start = clock.now_utc()
    clock.freeze(start)
    client.get("/api/v1/users", headers=bearer(secret))
    db.session.expire_all()
    assert _stored().last_used_at == start
    clock.freeze(start + timedelta(seconds=30))
    client.get("/api/v1/users", headers=bearer(secret))
    db.session.expire_all()
    assert _stored().last_used_at == start  # not again within the minute
    clock.freeze(start + timedelta(seconds=61))
    client.get("/api/v1/users", headers=bearer(secret))
    db.session.expire_all()
    assert _stored().last_used_at == start + timedelta(seconds=61)


def test_a_signed_in_session_is_no_credential_for_the_api(client, admin):
    sign_in(client, admin)  # the admin's own browser: cookies, but no token
    is_problem(client.get("/api/v1/users"), 401)
    # A cookie-carrying POST without a token is checked for CSRF like any form (no exemption without a token) ...
    refused = client.post("/api/v1/users", json={"email": "x@example.org", "full_name": "X"}, csrf=False)
    assert "Authorization: Bearer" in is_problem(refused, 400)["detail"]
    # ... and with the page's CSRF token it is still no API client.
    is_problem(client.post("/api/v1/users", json={"email": "x@example.org", "full_name": "X"}), 401)


def test_api_responses_set_no_cookie_even_for_a_signed_in_browser(client, admin):
    secret = make_token(admin)
    sign_in(client, admin)
    for response in (
        client.get("/api/v1/users", headers=bearer(secret)),
        client.get("/api/v1/nowhere", headers=bearer(secret)),
        client.post(
            "/api/v1/users",
            json={"email": "c@example.org", "full_name": "C"},
            headers=bearer(secret),
            csrf=False,
        ),
        client.get("/api/v1/users"),
    ):
        assert "Set-Cookie" not in response.headers, response.status_code
        assert "Cookie" not in response.headers.get("Vary", "")


def test_bearer_requests_need_no_csrf_token(client, admin):
    secret = make_token(admin)
    response = client.post(
        "/api/v1/users",
        json={"email": "n@example.org", "full_name": "New"},
        headers=bearer(secret),
        csrf=False,
    )
    assert response.status_code == 201


def test_tokens_verb_refuses_what_the_form_cannot_check(app, admin, student):
    from lms.errors import DomainError

    with pytest.raises(DomainError, match="Only admins"):
        tokens.create_token(student, "Mine", ["users:read"], (clock.now_utc() + timedelta(days=3)).date())
    token, _ = tokens.create_token(
        admin, "Mine", ["users:read"], (clock.now_utc() + timedelta(days=3)).date()
    )
    tokens.revoke_token(admin, token.id)
    with pytest.raises(DomainError, match="already revoked"):
        tokens.revoke_token(admin, token.id)

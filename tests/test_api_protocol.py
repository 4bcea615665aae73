"""What every part of the API shares: cursor pages, ETags, problem+json errors, the rate limit per token, the
request log, and the OpenAPI document with its reference page."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from lms.accounts import operations as accounts
from lms.accounts.models import Role
from lms.api.models import ApiRequest, ApiToken
from lms.extensions import db
from tests.api_support import bearer, is_problem, make_token


def _all_pages(client, url: str, headers: dict, between=None) -> list[int]:
    ids, pages = [], 0
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        ids += [item["id"] for item in body["items"]]
        assert len(body["items"]) <= 3
        if body["next"]:
            assert response.headers["Link"] == f'<{body["next"]}>; rel="next"'
            assert body["next_cursor"] in body["next"]
        else:
            assert "Link" not in response.headers and body["next_cursor"] is None
        url = body["next"]
        pages += 1
        if between:
            between(pages)
    return ids


def test_pages_over_many_items_skip_nothing_and_repeat_nothing_while_rows_are_added(client, admin, make_user):
    secret = make_token(admin)
    for _ in range(9):
        make_user(Role.STUDENT)
    added = []

    def add_one(page: int) -> None:  # a new account arrives between pages, as in a live system
        added.append(make_user(Role.STUDENT).id)

    ids = _all_pages(client, "/api/v1/users?limit=3&role=student", bearer(secret), between=add_one)
    students = db.session.scalars(sa.select(accounts.User.id).where(accounts.User.role == "student")).all()
    assert len(ids) == len(set(ids))  # nothing twice
    # nothing skipped, the ones added during paging included (the one added after the last page came too late)
    assert set(ids) == set(students) - {added[-1]}
    assert ids == sorted(ids)
    assert len(ids) >= 12


def test_filters_carry_over_to_the_next_page(client, admin, make_user):
    secret = make_token(admin)
    for _ in range(4):
        make_user(Role.INSTRUCTOR)
    for _ in range(4):
        make_user(Role.STUDENT)
    ids = _all_pages(client, "/api/v1/users?limit=3&role=instructor", bearer(secret))
    assert len(ids) == 4
    assert {db.session.get(accounts.User, i).role for i in ids} == {"instructor"}


@pytest.mark.parametrize("cursor", ["nonsense", "WzEsMl0", "a" * 400])
def test_a_made_up_cursor_is_a_400_problem(client, admin, cursor):
    body = is_problem(client.get(f"/api/v1/users?cursor={cursor}", headers=bearer(make_token(admin))), 400)
    assert "cursor" in body["errors"]


def test_a_cursor_of_another_list_is_refused(client, admin, make_user):
    secret = make_token(admin)
    for _ in range(3):
        make_user()
    cursor = client.get("/api/v1/users?limit=1", headers=bearer(secret)).get_json()["next_cursor"]
    assert cursor
    is_problem(client.get(f"/api/v1/certificates?cursor={cursor}", headers=bearer(secret)), 400)


def test_a_limit_past_100_is_a_422_naming_the_field(client, admin):
    body = is_problem(client.get("/api/v1/users?limit=101", headers=bearer(make_token(admin))), 422)
    assert list(body["errors"]) == ["limit"]


def test_reads_carry_a_strong_etag_and_answer_304_while_unchanged(client, admin, student):
    secret = make_token(admin)
    first = client.get(f"/api/v1/users/{student.id}", headers=bearer(secret))
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    again = client.get(f"/api/v1/users/{student.id}", headers={**bearer(secret), "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    accounts.deactivate_user(admin, student)
    db.session.commit()
    changed = client.get(f"/api/v1/users/{student.id}", headers={**bearer(secret), "If-None-Match": etag})
    assert changed.status_code == 200 and changed.get_json()["active"] is False
    assert changed.headers["ETag"] != etag


def test_every_kind_of_error_is_problem_json(client, admin, monkeypatch):
    headers = bearer(make_token(admin))
    assert (
        is_problem(client.get("/api/v1/no-such-thing", headers=headers), 404)["instance"]
        == "/api/v1/no-such-thing"
    )
    assert is_problem(client.get("/api/v1/users/2147483648", headers=headers), 404)  # past the id range
    refused = client.delete("/api/v1/users", headers=headers)
    is_problem(refused, 405)
    assert set(refused.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    broken = client.post(
        "/api/v1/users", data="{not json", content_type="application/json", headers=headers, csrf=False
    )
    assert "JSON" in is_problem(broken, 400)["detail"]
    invalid = client.post(
        "/api/v1/users", json={"email": "", "role": "emperor", "extra": 1}, headers=headers, csrf=False
    )
    assert set(is_problem(invalid, 422)["errors"]) == {"email", "full_name", "role", "extra"}
    not_an_object = client.post("/api/v1/users", json=[1, 2], headers=headers, csrf=False)
    is_problem(not_an_object, 422)

    from lms.api import user_views

    def broken_view(user):
        raise RuntimeError("a bug")

    monkeypatch.setattr(user_views, "user_json", broken_view)
    crashed = client.get("/api/v1/users", headers=headers)
    body = is_problem(crashed, 500)
    assert "a bug" not in crashed.get_data(as_text=True) and "X-Request-ID" in body["detail"]


def test_a_json_body_too_large_is_a_413_problem(client, admin):
    headers = bearer(make_token(admin))
    big = {"email": "b@example.org", "full_name": "x" * (300 * 1024)}
    is_problem(client.post("/api/v1/users", json=big, headers=headers, csrf=False), 413)


@pytest.mark.app_config(RATELIMIT_ENABLED=True, API_RATE_LIMIT="3 per minute")
def test_each_token_has_its_own_rate_limit(client, admin):
    first, second = make_token(admin, name="first"), make_token(admin, name="second")
    for _ in range(3):
        assert client.get("/api/v1/users", headers=bearer(first)).status_code == 200
    limited = client.get("/api/v1/users", headers=bearer(first))
    body = is_problem(limited, 429)
    assert int(limited.headers["Retry-After"]) > 0
    assert "Retry-After" in body["detail"]
    assert (
        client.get("/api/v1/users", headers=bearer(second)).status_code == 200
    )  # another token: its own count


def test_every_request_with_a_token_is_logged_with_its_owner_and_status(client, admin, student):
    secret = make_token(admin)
    client.get(f"/api/v1/users/{student.id}", headers=bearer(secret))
    client.get("/api/v1/users/999999", headers=bearer(secret))
    client.post(f"/api/v1/users/{student.id}/deactivate", headers=bearer(secret), csrf=False)
    client.get("/api/v1/users")  # no token: nobody to name
    token_id = db.session.scalar(sa.select(ApiToken.id))
    rows = db.session.scalars(sa.select(ApiRequest).order_by(ApiRequest.id)).all()
    assert [(r.method, r.path, r.status, r.token_id, r.owner_id) for r in rows] == [
        ("GET", f"/api/v1/users/{student.id}", 200, token_id, admin.id),
        ("GET", "/api/v1/users/999999", 404, token_id, admin.id),
        ("POST", f"/api/v1/users/{student.id}/deactivate", 200, token_id, admin.id),
    ]
    assert all(r.request_id for r in rows)


def test_the_openapi_document_is_3_1_and_generated_from_the_code(client, app):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"] == "3.1.0"
    routes = {
        (rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}"), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api_") and not rule.endpoint.startswith(("api_docs", "api_tokens"))
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {
        (path, method)
        for path, item in document["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert routes == documented  # every API route, and nothing else
    users = document["paths"]["/api/v1/users"]
    assert users["get"]["security"] == [{"bearerAuth": ["users:read"]}]
    assert "application/problem+json" in document["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert document["components"]["schemas"]["UserOut"]["properties"]["created_at"]["format"] == "date-time"


def test_the_reference_page_is_served_by_the_app_itself(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "GET /api/v1/certificates" in page and "POST /api/v1/users" in page
    assert "users:write" in page and "UserOut" in page
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', page)  # nothing fetched from elsewhere (no CDN)
    # The descriptions are CommonMark (as OpenAPI says): rendered, not shown with their backticks
    assert "<code>Authorization: Bearer lms_...</code>" in page and "`Authorization" not in page

"""Security defaults: headers, CSRF on every POST route, friendly error pages, sign-in throttling."""

from __future__ import annotations

import re

import pytest
from flask import abort

from lms import create_app
from lms.accounts.access import public
from tests.access_rules import ALL_RULES, LOGIN, ROLES
from tests.conftest import PASSWORD, sign_in


def test_pages_carry_security_headers(client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp
    assert "http" not in csp  # no other host is trusted for anything
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert len(response.headers["X-Request-ID"]) >= 8
    assert "Strict-Transport-Security" not in response.headers  # only when cookies are HTTPS-only
    assert len(response.headers.getlist("X-Frame-Options")) == 1


@pytest.mark.app_config(SESSION_COOKIE_SECURE=True)
def test_secure_cookies_and_hsts_when_served_over_https(client, student):
    response = client.post("/login", data={"email": student.email, "password": PASSWORD})
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    assert "max-age=" in response.headers["Strict-Transport-Security"]


def test_pages_load_nothing_from_other_hosts(client, login, admin):
    login(client, admin)
    for path in ("/login", "/dashboard", "/admin/users", "/account"):
        html = client.get(path, follow_redirects=True).get_data(as_text=True)
        assert 'src="http' not in html and 'href="http' not in html.replace('href="http://localhost', "")
        assert "//cdn" not in html


# POST routes that take no CSRF token, each with its reason (and a test of its own that a request with none works).
CSRF_EXEMPT = {
    # RFC 8058 one-click unsubscribe: mail providers POST with no session; the signed per-person token is the proof
    # and it can only turn one kind of notice off (tests/test_notifications.py).
    "notifications.unsubscribe:POST",
}
POST_RULES = [rule for rule in ALL_RULES if rule.method == "POST" and rule.id not in CSRF_EXEMPT]


@pytest.mark.parametrize("rule", POST_RULES, ids=lambda r: r.id)
def test_every_post_route_refuses_a_request_without_a_csrf_token(client, samples, rule):
    role = next((r for r in ROLES if rule.expect[r] not in (LOGIN, 403, 404)), "admin")
    if role != "anonymous":
        sign_in(client, getattr(samples, role))
    kwargs = {"headers": rule.headers}
    if rule.json is not None:
        kwargs["json"] = rule.json(samples)
    else:
        kwargs["data"] = rule.data(samples) if rule.data else {}
    response = client.post(rule.url(samples), csrf=False, **kwargs)
    assert response.status_code == 400, f"{rule.id} accepted a POST without a CSRF token"
    body = response.get_data(as_text=True)
    assert "expired or was not sent from this site" in body
    assert "Traceback" not in body


def test_unknown_page_is_friendly_in_html_and_json(client):
    page = client.get("/no-such-page")
    assert page.status_code == 404 and "Page not found" in page.get_data(as_text=True)
    api = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert api.status_code == 404 and api.json["message"].startswith("We could not find")


def test_forbidden_page_is_friendly(client, login, student):
    login(client, student)
    response = client.get("/admin/users")
    assert response.status_code == 403 and "does not have access" in response.get_data(as_text=True)


@pytest.mark.app_config(MAX_CONTENT_LENGTH=1024)
def test_too_large_request_gets_the_413_page(client):
    response = client.post("/login", data={"email": "a@example.org", "password": "x" * 4096}, csrf=False)
    assert response.status_code == 413
    assert "larger than this site accepts" in response.get_data(as_text=True)


@pytest.mark.app_config(PROPAGATE_EXCEPTIONS=False, TESTING=False)
def test_unexpected_error_shows_a_reference_and_no_trace(app, client, caplog):
    @app.route("/boom")
    @public
    def boom():
        raise RuntimeError("secret internals")

    @app.route("/teapot")
    @public
    def teapot():
        abort(418)

    response = client.get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internals" not in body and "Traceback" not in body
    request_id = response.headers["X-Request-ID"]
    assert request_id in body
    assert any(request_id in record.getMessage() for record in caplog.records)
    assert client.get("/teapot").status_code == 418


@pytest.mark.app_config(RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_ACCOUNT="3 per minute")
def test_sign_in_is_throttled_per_account(client, student):
    for _ in range(3):
        assert (
            client.post("/login", data={"email": student.email, "password": "wrong-password"}).status_code
            == 422
        )
    blocked = client.post("/login", data={"email": student.email.upper(), "password": PASSWORD})
    assert blocked.status_code == 429
    assert "Too many attempts" in blocked.get_data(as_text=True)
    other = client.post("/login", data={"email": "other@example.org", "password": "wrong-password"})
    assert other.status_code == 422  # another account is not blocked by this one's limit


@pytest.mark.app_config(RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_ADDRESS="4 per minute")
def test_sign_in_is_throttled_per_address(client):
    for n in range(4):
        client.post("/login", data={"email": f"user{n}@example.org", "password": "wrong-password"})
    assert client.post("/login", data={"email": "new@example.org", "password": "x"}).status_code == 429
    assert client.get("/login").status_code == 200  # reading the page is not limited


def test_each_app_keeps_its_own_rate_limit_switch(app, client, app_config):
    """Flask-Limiter's switch lives on the shared extension object; an app built later with limits on (as some
    tests and tools do in the same process) must not turn them on for this app, whose settings say off."""
    assert app.config["RATELIMIT_ENABLED"] is False
    create_app({**app_config, "RATELIMIT_ENABLED": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    for _ in range(8):
        response = client.post("/login", data={"email": "someone@example.org", "password": "wrong-password"})
        assert response.status_code == 422  # judged on the password every time, never throttled


# --- checks done once per process (lms.web.CsrfProtection, KeptSessionInterface): the same verdicts -------------


def _page_token(client, **kwargs) -> str:
    page = client.get("/account", **kwargs).get_data(as_text=True)
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found
    return found.group(1)


def test_a_token_found_genuine_once_still_works_only_for_its_own_session(app, make_user):
    first, second = (sign_in(app.test_client(), make_user()) for _ in range(2))
    token = _page_token(first)
    for _ in range(2):  # the second time the token's signature is remembered, not checked again
        assert first.post("/tracks/none/enroll", data={"csrf_token": token}, csrf=False).status_code == 404
    refused = second.post("/tracks/none/enroll", data={"csrf_token": token}, csrf=False)
    assert refused.status_code == 400  # another session's token, however genuine
    # JSON requests carry it in the header, read before any form; a wrong one is refused as before.
    for header, expected in ((token, 404), ("x" + token, 400)):
        response = first.post("/quizzes/attempts/999999/answers", json={"question": "q", "seq": 1}, csrf=False,
                              headers={"X-CSRFToken": header})  # fmt: skip
        assert response.status_code == expected, header
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert first.post("/tracks/none/enroll", data={"csrf_token": tampered}, csrf=False).status_code == 400


@pytest.mark.app_config(SESSION_COOKIE_SECURE=True)
def test_over_https_a_remembered_token_still_needs_a_referrer_from_this_host(app, make_user):
    client = sign_in(app.test_client(), make_user())
    https = {"base_url": "https://localhost"}
    token = _page_token(client, **https)
    ok = {"Referer": "https://localhost/account"}
    for _ in range(2):
        sent = client.post("/tracks/none/enroll", data={"csrf_token": token}, csrf=False, headers=ok, **https)
        assert sent.status_code == 404
    for headers in ({}, {"Referer": "https://elsewhere.example/"}):
        sent = client.post(
            "/tracks/none/enroll", data={"csrf_token": token}, csrf=False, headers=headers, **https
        )
        assert sent.status_code == 400, headers


def test_a_remembered_session_cookie_still_expires_and_a_forged_one_is_refused(app, client, student):
    sign_in(client, student)
    assert client.get("/account").status_code == 200
    assert client.get("/account").status_code == 200  # its signature is remembered now
    interface = app.session_interface
    lifetime = app.permanent_session_lifetime.total_seconds()
    real_now = interface.now
    interface.now = lambda: real_now() + lifetime + 60
    try:
        assert client.get("/account").status_code == 302  # too old: signed out, as the serializer would say
    finally:
        interface.now = real_now
    cookie = client.get_cookie("session")
    client.set_cookie("session", cookie.value[:-3] + "abc")
    assert client.get("/account").status_code == 302


def test_a_session_cookie_is_read_the_same_whatever_cookies_come_beside_it(app, client, student):
    sign_in(client, student)
    # Another cookie changes beside it: the same session, read by its own cookie.
    for theme in ("light", "dark", "light"):
        client.set_cookie("theme", theme)
        assert client.get("/account").status_code == 200, theme
    cookie = client.get_cookie("session")
    client.set_cookie("session", cookie.value[:-3] + "abc")  # beside a cookie seen before: still refused
    assert client.get("/account").status_code == 302
    client.set_cookie("session", cookie.value)
    assert client.get("/account").status_code == 200


def test_a_response_varies_on_the_cookie_it_read_and_sets_it_only_when_it_changed(app, client, student):
    sign_in(client, student)
    client.get("/account")
    read = client.get("/account")
    assert read.status_code == 200 and "Cookie" in read.headers.getlist("Vary")
    assert "Set-Cookie" not in read.headers  # unchanged: the browser keeps the cookie it has
    signed_out = client.post("/logout")
    assert signed_out.status_code == 302 and "Set-Cookie" in signed_out.headers  # changed: set anew
    assert client.get("/account").status_code == 302

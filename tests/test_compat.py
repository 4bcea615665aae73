"""What lms.compat relies on in Flask-Login and Flask-WTF is still there and still behaves so.

Each check fails with the library, its installed version and the version lms.compat was checked against, so an
upgrade that changes a private API says so here, not as a 500 on a form POST. Each runs on a small app of its own
(no database): the attribute, its signature, and its behaviour where that is cheap to show.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib.metadata import version
from typing import Any

import flask_login.utils
import flask_wtf.csrf
import pytest
from flask import Flask, request, session
from flask_login import LoginManager, current_user, login_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from lms import compat
from lms.accounts.models import Reader
from lms.web import CsrfProtection

CHECKED = {"Flask-Login": compat.FLASK_LOGIN_CHECKED, "Flask-WTF": compat.FLASK_WTF_CHECKED}


def changed(library: str, what: str) -> str:
    """The failure message: which library, which version, what changed, and what to do."""
    return (
        f"{library} {version(library)} changed {what} (lms.compat was checked against {library} "
        f"{', '.join(CHECKED[library])}): read its release notes, then update the wrapper in lms/compat.py "
        "and the floor in pyproject.toml"
    )


def parameters(function: Callable[..., Any]) -> list[tuple[str, Any]]:
    return [(p.name, p.default) for p in inspect.signature(function).parameters.values()]


def reader(user_id: int = 7) -> Reader:
    return Reader(user_id, f"user{user_id}@example.org", "Some One", "student", True, 1)


# --- Flask-Login -----------------------------------------------------------------------------------------------


@pytest.fixture
def login_app() -> tuple[Flask, list[str]]:
    """A small app with Flask-Login in "strong" session protection; its loader records each id it loads."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="compat-tests", SESSION_PROTECTION="strong")
    manager = LoginManager(app)
    loaded: list[str] = []

    @manager.user_loader
    def load(user_id: str) -> Reader:
        loaded.append(user_id)
        return reader(int(user_id.split(":")[0]))

    @app.post("/login")
    def sign_in() -> str:
        login_user(reader())
        return str(compat.session_user_id())

    @app.get("/check")
    def check() -> str:
        failed = compat.session_protection_failed()
        return f"{failed} {compat.session_user_id()}"

    return app, loaded


def test_flask_login_private_apis_are_still_there_with_the_same_signatures():
    failed = getattr(LoginManager, "_session_protection_failed", None)
    assert callable(failed), changed("Flask-Login", "LoginManager._session_protection_failed (gone)")
    assert parameters(failed) == [("self", inspect.Parameter.empty)], changed(
        "Flask-Login",
        f"the signature of LoginManager._session_protection_failed to {inspect.signature(failed)}",
    )
    assert callable(getattr(flask_login.utils, "_get_user", None)), changed(
        "Flask-Login", "flask_login.utils._get_user (gone), which reads the request's user from g._login_user"
    )


def test_flask_login_keeps_the_signed_in_user_id_under_the_session_key_compat_reads(login_app):
    app, _ = login_app
    client = app.test_client()
    assert client.post("/login").get_data(as_text=True) == reader().get_id(), changed(
        "Flask-Login", f'where login_user() stores the user id (session["{compat.LOGIN_SESSION_USER_KEY}"])'
    )
    with client.session_transaction() as stored:
        assert stored.get(compat.LOGIN_SESSION_USER_KEY) == reader().get_id(), changed(
            "Flask-Login", "the session key of the signed-in user id"
        )


def test_session_protection_fails_when_the_identifier_changes_and_only_then(login_app):
    app, _ = login_app
    client = app.test_client()
    browser = {"User-Agent": "browser-one"}
    client.post("/login", headers=browser)
    same = client.get("/check", headers=browser).get_data(as_text=True)
    assert same == f"False {reader().get_id()}", changed(
        "Flask-Login", "_session_protection_failed() for an unchanged session identifier"
    )
    elsewhere = client.get("/check", headers={"User-Agent": "another-browser"}).get_data(as_text=True)
    assert elsewhere == "True None", changed(
        "Flask-Login",
        '_session_protection_failed() in "strong" mode for a changed identifier (it should say True and '
        "empty the session)",
    )


def test_a_user_set_for_the_request_is_current_user_and_nothing_loads_another(login_app):
    app, loaded = login_app
    with app.test_request_context("/"):
        session[compat.LOGIN_SESSION_USER_KEY] = "9:1"  # would load user 9
        assert not compat.request_user_loaded() and compat.request_user() is None
        compat.set_request_user(reader(7))
        assert compat.request_user_loaded(), changed("Flask-Login", "where the request's user is kept")
        assert current_user.id == 7 and loaded == [], changed(
            "Flask-Login", "current_user: it no longer takes the user kept in g._login_user (it loaded one)"
        )
        assert compat.request_user() is current_user._get_current_object()
    app.config["SESSION_PROTECTION"] = None  # a session made by hand has no identifier to protect
    with app.test_request_context("/"):
        session[compat.LOGIN_SESSION_USER_KEY] = "9:1"
        assert current_user.id == 9 and loaded == ["9:1"]  # the usual way: the loader
        assert compat.request_user_loaded(), changed(
            "Flask-Login", "where it keeps the user it loaded (g._login_user)"
        )


# --- Flask-WTF ---------------------------------------------------------------------------------------------------


def test_flask_wtf_private_apis_are_still_there_with_the_same_signatures():
    expected = {
        "_get_csrf_token": [("self", inspect.Parameter.empty)],
        "_is_exempt": [("self", inspect.Parameter.empty)],
        "_error_response": [("self", inspect.Parameter.empty), ("reason", inspect.Parameter.empty)],
        "protect": [("self", inspect.Parameter.empty), ("apply_exemptions", False)],
    }
    for name, signature in expected.items():
        method = getattr(CSRFProtect, name, None)
        assert callable(method), changed("Flask-WTF", f"CSRFProtect.{name} (gone)")
        assert parameters(method) == signature, changed(
            "Flask-WTF", f"the signature of CSRFProtect.{name} to {inspect.signature(method)}"
        )
    assert callable(getattr(flask_wtf.csrf, "same_origin", None)), changed(
        "Flask-WTF", "flask_wtf.csrf.same_origin (gone)"
    )
    same = compat.same_origin("https://a.example/x", "https://a.example/")
    other = compat.same_origin("https://b.example/x", "https://a.example/")
    assert (same, other) == (True, False), changed("Flask-WTF", "what same_origin() compares")


def csrf_app_with(protection: CSRFProtect) -> Flask:
    """A small app guarded by `protection`: a token page, a guarded view and a view marked exempt."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="compat-tests", WTF_CSRF_TIME_LIMIT=None)
    protection.init_app(app)

    @app.get("/token")
    def token() -> str:
        return str(generate_csrf())

    @app.post("/guarded")
    def guarded() -> str:
        return "done"

    @app.post("/hook")
    @protection.exempt
    def hook() -> str:
        return "heard"

    return app


@pytest.fixture
def csrf_app() -> tuple[Flask, list[bool]]:
    """The platform's CSRF protection (lms.web.CsrfProtection) on a small app, with a record of each protect()."""
    calls: list[bool] = []

    class Recording(CsrfProtection):
        def protect(self, apply_exemptions: bool = False) -> None:
            calls.append(apply_exemptions)
            return super().protect(apply_exemptions)

    return csrf_app_with(Recording()), calls


def test_flask_wtf_calls_protect_with_exemptions_and_an_exempt_view_passes(csrf_app):
    app, calls = csrf_app
    client = app.test_client()
    response = client.post("/hook")
    assert response.status_code == 200, changed("Flask-WTF", "@csrf.exempt through protect(apply_exemptions)")
    assert calls == [True], changed(
        "Flask-WTF", f"how its before_request hook calls protect() (calls seen: {calls}; expected one, with "
        "apply_exemptions=True)",
    )  # fmt: skip
    refused = client.post("/guarded")
    assert refused.status_code == 400 and b"CSRF token is missing" in refused.data, changed(
        "Flask-WTF", "the refusal of a POST without a token"
    )
    token = client.get("/token").get_data(as_text=True)
    for _ in range(2):  # the second time through the token remembered by lms.web.CsrfProtection
        assert client.post("/guarded", data={"csrf_token": token}).status_code == 200, changed(
            "Flask-WTF", "the acceptance of a genuine token"
        )


def test_flask_wtf_reads_the_token_where_sent_token_finds_it():
    class FromOwnHeader(compat.CSRFProtectBase):
        def sent_token(self) -> str | None:
            return request.headers.get("X-Own-Token")

    client = csrf_app_with(FromOwnHeader()).test_client()
    token = client.get("/token").get_data(as_text=True)
    assert client.post("/guarded", headers={"X-Own-Token": token}).status_code == 200, changed(
        "Flask-WTF", "where protect() reads the request's token (CSRFProtect._get_csrf_token)"
    )
    assert client.post("/guarded", data={"csrf_token": token}).status_code == 400, changed(
        "Flask-WTF", "where protect() reads the request's token: it read a form field sent_token() ignores"
    )


def test_refuse_and_exemptions_answer_as_flask_wtf_does(csrf_app):
    app, _ = csrf_app
    protection = app.extensions["csrf"]
    with app.test_request_context("/hook", method="POST"):
        assert protection.is_exempt() is True, changed("Flask-WTF", "_is_exempt() for an @csrf.exempt view")
    with app.test_request_context("/guarded", method="POST"):
        assert protection.is_exempt() is False, changed("Flask-WTF", "_is_exempt() for a guarded view")
        with pytest.raises(CSRFError, match="why not") as refused:
            protection.refuse("why not")
        assert refused.value.code == 400, changed("Flask-WTF", "the answer of _error_response()")


def test_forms_trust_a_request_marked_valid_and_find_the_kept_token(csrf_app):
    app, _ = csrf_app
    with app.test_request_context("/guarded", method="POST", data={"name": "x"}):
        assert FlaskForm().validate() is False  # no token, not marked: refused by the form itself
    with app.test_request_context("/guarded", method="POST", data={"name": "x"}):
        compat.mark_csrf_valid()
        assert FlaskForm().validate() is True, changed(
            "Flask-WTF", "how forms learn that CSRFProtect checked the request (g.csrf_valid)"
        )
    with app.test_request_context("/"):
        assert compat.request_csrf_token("csrf_token") is None
        signed = generate_csrf()
        assert compat.request_csrf_token("csrf_token") == signed, changed(
            "Flask-WTF", "where generate_csrf() keeps the request's signed token (g.csrf_token)"
        )
    with app.test_request_context("/"):
        compat.keep_request_csrf_token("csrf_token", "kept-token")
        assert generate_csrf() == "kept-token", changed(
            "Flask-WTF", "where generate_csrf() looks for the request's signed token first (g.csrf_token)"
        )

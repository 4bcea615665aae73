"""Test helpers: a client that sends the CSRF token as a browser would, small HTML readers, and a recorder of
the SQL statements a piece of code runs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from flask import has_app_context
from flask.globals import _cv_app, _cv_request
from flask.testing import FlaskClient

from lms.database import statement_engine
from lms.extensions import db

CSRF_PATTERNS = [
    re.compile(r'name="csrf-token" content="([^"]+)"'),
    re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"'),
    re.compile(r'type="hidden" name="csrf_token" value="([^"]+)"'),
    re.compile(r'name="csrf_token" value="([^"]+)"'),
]


def find_csrf_token(html: str) -> str | None:
    for pattern in CSRF_PATTERNS:
        match = pattern.search(html)
        if match:
            return match.group(1)
    return None


class BrowserLikeClient(FlaskClient):
    """Posts forms with the CSRF token the site gave, like a browser submitting a page it loaded.

    Pass `csrf=False` to send a request without one (to prove it is refused)."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        # Each request runs as in production: its own app context, `g` and database session, not the test's.
        app_token, request_token = _cv_app.set(None), _cv_request.set(None)  # type: ignore[arg-type]
        # Read the whole body here, as the server does before the next request: a streamed response (the
        # gradebook CSV, stream_with_context) keeps its request's contexts until its last line is sent.
        kwargs.setdefault("buffered", True)
        try:
            return super().open(*args, **kwargs)
        finally:
            _cv_request.reset(request_token)
            _cv_app.reset(app_token)
            if has_app_context():
                # The request committed in its own session: let the test's session read fresh rows.
                db.session.rollback()
                db.session.expire_all()

    def csrf_token(self) -> str:
        page = self.get("/login", follow_redirects=True).get_data(as_text=True)
        token = find_csrf_token(page)
        assert token, "no CSRF token on the sign-in page or dashboard"
        return token

    def post(self, *args: Any, csrf: bool = True, **kwargs: Any) -> Any:
        if csrf:
            if "json" in kwargs:
                headers = dict(kwargs.pop("headers", None) or {})
                if "X-CSRFToken" not in headers:  # not setdefault: that would fetch a token every time
                    headers["X-CSRFToken"] = self.csrf_token()
                kwargs["headers"] = headers
            else:
                data = dict(kwargs.get("data") or {})
                if "csrf_token" not in data:
                    data["csrf_token"] = self.csrf_token()
                kwargs["data"] = data
        return super().post(*args, **kwargs)


def field_error(html: str, field_id: str) -> str | None:
    """The error message shown beside a form field, if any."""
    match = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', html, re.S)
    return match.group(1).strip() if match else None


@contextmanager
def recorded_statements(*, one_line: bool = False) -> Iterator[list[str]]:
    """The SQL text of every statement the app's engines run inside the block, in order.

    `one_line=True` collapses each statement's whitespace to single spaces, for matching and reading.
    Needs an app context when entered; the listener is removed on leaving, also on error."""
    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(" ".join(statement.split()) if one_line else statement)

    engines = {db.engine, statement_engine()}  # the session's, and the one for single statements (PostgreSQL)
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", record)

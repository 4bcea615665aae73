"""Helpers for the API tests: a token made through the real operation, and its Authorization header."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from lms.accounts.models import User
from lms.api import tokens
from lms.clock import now_utc


def make_token(
    admin: User, scopes: Sequence[str] = tokens.SCOPES, days: int = 30, name: str = "HR system"
) -> str:
    _, secret = tokens.create_token(admin, name, list(scopes), (now_utc() + timedelta(days=days)).date())
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def is_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    """The response is an RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"]
    return body  # type: ignore[no-any-return]

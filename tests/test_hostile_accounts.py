"""Names are shown to others (admins, instructors, certificate viewers): hostile ones must render inert."""

from __future__ import annotations

import pytest

from lms.accounts.models import Role
from tests.hostile import XSS_PAYLOADS, active_content


def test_the_checker_finds_active_content():
    assert active_content('<img src=x onerror="alert(1)">')
    assert active_content('<a href=" JavaScript:alert(1)">x</a>')
    assert active_content("<script>alert(1)</script>")
    assert not active_content('<script src="/static/js/quiz.js"></script><a href="/x">ok</a>')


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_a_hostile_full_name_renders_inert_everywhere_it_is_shown(client, login, make_user, admin, payload):
    make_user(Role.STUDENT, full_name=f"Eve {payload}", email="eve@example.org")
    login(client, admin)
    for path in ("/admin/users", "/admin/users?q=eve"):
        html = client.get(path).get_data(as_text=True)
        assert "eve@example.org" in html
        assert active_content(html) == [], path
    if payload == "{{ 7*7 }}":  # data is never evaluated as a template
        assert "Eve {{ 7*7 }}" in html

"""Every route, as every role: each gets what it should, and a route without a decision fails the suite."""

from __future__ import annotations

from typing import Any

import pytest

from tests.access_rules import ALL_RULES, LOGIN, REDIRECT, ROLES, Rule
from tests.conftest import sign_in


def test_every_route_has_an_access_decision(app):
    routes = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    decided = {(rule.endpoint, rule.method) for rule in ALL_RULES}
    assert sorted(routes - decided) == [], "routes without an access rule in tests/access_rules/"
    assert sorted(decided - routes) == [], "access rules for routes that no longer exist"


def test_rules_cover_every_role():
    for rule in ALL_RULES:
        assert set(rule.expect) == set(ROLES), rule.id


def _matches(expected: Any, response: Any) -> bool:
    options = expected if isinstance(expected, tuple) else (expected,)
    for option in options:
        sent_to_sign_in = "/login?next=" in (response.location or "")
        if option == LOGIN and response.status_code == 302 and sent_to_sign_in:
            return True
        if option == REDIRECT and response.status_code in (302, 303) and not sent_to_sign_in:
            return True
        if isinstance(option, int) and response.status_code == option:
            return True
    return False


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_route_answers_each_role_as_decided(client, samples, rule: Rule, role: str):
    if role != "anonymous":
        sign_in(client, getattr(samples, role))
    kwargs: dict[str, Any] = {"headers": rule.headers}
    if rule.data is not None:
        kwargs["data"] = rule.data(samples)
    if rule.json is not None:
        kwargs["json"] = rule.json(samples)
    if rule.method == "POST":
        response = client.post(rule.url(samples), **kwargs)  # with the CSRF token, as the page would send
    else:
        response = client.open(rule.url(samples), method=rule.method, **kwargs)
    expected = rule.expect[role]
    assert _matches(expected, response), (
        f"{rule.method} {rule.url(samples)} as {role}: expected {expected}, got {response.status_code} "
        f"{response.location or ''}"
    )
    assert response.status_code != 500


def test_an_app_with_a_view_that_declares_no_access_or_runs_user_reads_outside_a_role_check_is_refused():
    from flask import Flask

    from lms.accounts.access import login_required, public, reads_user_with, tries_claimed, undeclared_views

    def claimed(claim: Any) -> None:
        return None

    def preload(user_id: int) -> None:
        return None

    app = Flask(__name__)
    app.add_url_rule("/undeclared", "undeclared", lambda: "")
    app.add_url_rule("/public-claim", "public_claim", public(tries_claimed(claimed)(lambda: "")))
    app.add_url_rule("/public-preload", "public_preload", public(reads_user_with(preload)(lambda: "")))
    app.add_url_rule(
        "/fine", "fine", login_required(tries_claimed(claimed)(reads_user_with(preload)(lambda: "")))
    )
    app.add_url_rule("/open", "open", public(lambda: ""))
    assert undeclared_views(app) == [
        "public_claim (reads_user_with or tries_claimed must sit below roles_required)",
        "public_preload (reads_user_with or tries_claimed must sit below roles_required)",
        "undeclared",
    ]

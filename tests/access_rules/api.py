"""Access rules for the API: the admin's token pages, the public documentation, and the API itself, which answers
401 to every cookie session (it takes bearer tokens only; tests/test_api_*.py use tokens)."""

from __future__ import annotations

from typing import Any

from tests.access_rules import Rule, admin_only, everyone

UNAUTHORIZED = everyone(401)  # a session cookie is no credential for the API, whoever's it is


def prepare(s: Any) -> None:
    return None


def api(endpoint: str, method: str, url: str, json: Any = None) -> Rule:
    return Rule(
        f"api_{endpoint}", method, lambda s: url, UNAUTHORIZED, json=(lambda s: json) if json else None
    )


RULES = [
    Rule("api_tokens.index", "GET", lambda s: "/admin/api-tokens", admin_only(200)),
    # Refused input (no name, no scope) so the walk creates nothing: the admin gets the form back.
    Rule(
        "api_tokens.create",
        "POST",
        lambda s: "/admin/api-tokens",
        admin_only(422),
        data=lambda s: {"name": "", "expires_on": ""},
    ),
    Rule("api_tokens.revoke", "POST", lambda s: "/admin/api-tokens/999999/revoke", admin_only(303)),
    Rule("api_docs.openapi_json", "GET", lambda s: "/api/v1/openapi.json", everyone(200)),
    Rule("api_docs.docs", "GET", lambda s: "/api/v1/docs", everyone(200)),
    api("users.list_users", "GET", "/api/v1/users"),
    api("users.create_user", "POST", "/api/v1/users", {"email": "walk@example.org", "full_name": "Walk"}),
    api("users.get_user", "GET", "/api/v1/users/1"),
    api("users.deactivate_user", "POST", "/api/v1/users/1/deactivate", {}),
    api("users.reactivate_user", "POST", "/api/v1/users/1/reactivate", {}),
    api("courses.list_cohorts", "GET", "/api/v1/tracks/any/cohorts"),
    api(
        "courses.create_cohort",
        "POST",
        "/api/v1/tracks/any/cohorts",
        {"name": "X", "starts_on": "2026-01-01"},
    ),
    api("courses.create_enrolment", "POST", "/api/v1/enrolments", {"user_id": 1, "track": "any"}),
    api("courses.bulk_enrolments", "POST", "/api/v1/enrolments/bulk", {"csv": "email,name,track"}),
    api("courses.get_enrolment", "GET", "/api/v1/enrolments/1"),
    api("courses.list_enrolments", "GET", "/api/v1/enrolments"),
    api("results.get_results", "GET", "/api/v1/users/1/results/any"),
    api("certificates.list_certificates", "GET", "/api/v1/certificates"),
    api("certificates.issue_certificate", "POST", "/api/v1/certificates", {"user_id": 1, "track": "any"}),
    api("certificates.get_certificate", "GET", "/api/v1/certificates/7KQ2-M9XD-4TRW-H"),
    api("certificates.verify_certificate", "GET", "/api/v1/certificates/7KQ2-M9XD-4TRW-H/verification"),
    api(
        "certificates.revoke_certificate",
        "POST",
        "/api/v1/certificates/7KQ2-M9XD-4TRW-H/revoke",
        {"reason": "x"},
    ),
]

"""Access rules for bulk enrolment: admins only."""

from __future__ import annotations

from tests.access_rules import Rule, admin_only

RULES = [
    Rule("roster.upload", "GET", lambda s: "/admin/enrolments/import", admin_only(200)),
    # No file: the form comes back with its message, nothing is written.
    Rule("roster.upload", "POST", lambda s: "/admin/enrolments/import", admin_only(422)),
    # A key no preview has: refused, nothing applied.
    Rule(
        "roster.apply",
        "POST",
        lambda s: "/admin/enrolments/import/apply",
        admin_only(409),
        data=lambda s: {"key": "no-such-preview", "sha256": "0" * 64},
    ),
]

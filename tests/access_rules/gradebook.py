"""Access rules for the gradebook: staff only, every page."""

from __future__ import annotations

from typing import Any

from tests.access_rules import Rule, staff_only
from tests.fixtures.files import rows


def prepare(s: Any) -> None:
    s.gradebook_track = rows.make_track("gradebook-access", "Gradebook Access")
    rows.enroll(s.student, s.gradebook_track)


RULES = [
    Rule("gradebook.index", "GET", lambda s: "/gradebook", staff_only(200)),
    Rule("gradebook.track", "GET", lambda s: "/gradebook/gradebook-access", staff_only(200)),
    Rule("gradebook.track_csv", "GET", lambda s: "/gradebook/gradebook-access.csv", staff_only(200)),
]

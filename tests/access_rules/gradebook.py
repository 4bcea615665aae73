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
    # Refused input (no name, no students) so the walk changes nothing: staff get the page back with the message.
    Rule(
        "gradebook.create_cohort",
        "POST",
        lambda s: "/gradebook/gradebook-access/cohorts",
        staff_only(422),
        data=lambda s: {"cohort-name": "", "cohort-starts_on": "2025-09-01"},
    ),
    Rule(
        "gradebook.assign_cohort",
        "POST",
        lambda s: "/gradebook/gradebook-access/cohorts/assign",
        staff_only(422),
        data=lambda s: {"assign-cohort": ""},
    ),
]

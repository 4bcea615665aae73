"""Bulk enrolment's public interface: views, the API and the tests import these verbs from here."""

from __future__ import annotations

from lms.roster.applying import RosterResult, apply_roster, preview_roster, stage_roster, staged_roster
from lms.roster.parsing import MAX_BYTES, MAX_ROWS
from lms.roster.planning import RosterPreview, RosterRow

__all__ = [
    "MAX_BYTES",
    "MAX_ROWS",
    "RosterPreview",
    "RosterResult",
    "RosterRow",
    "apply_roster",
    "preview_roster",
    "stage_roster",
    "staged_roster",
]

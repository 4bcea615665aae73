"""In a real browser in New York: a student who never chose a time zone sees the due date on New York's clock,
because the page's script tells the server the browser's zone (the `tz` cookie)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lms.extensions import db
from tests.conftest import PASSWORD
from tests.fixtures.files import rows

pytestmark = pytest.mark.browser

ENROLLED = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # due 21 days later: 24 Mar 2025, 09:00 UTC


def test_a_student_who_chose_no_zone_sees_the_due_date_in_the_browsers_zone(chromium, live_server, make_user):
    student = make_user(full_name="Nora New-York")
    track = rows.make_track()
    rows.make_assignment(track, due_days=21, cutoff_days=14)
    rows.enroll(student, track, ENROLLED)
    assert student.time_zone is None
    db.session.remove()

    context = chromium.new_context(base_url=live_server.url(), timezone_id="America/New_York")
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Email").fill(student.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/dashboard")
        assert {c["name"]: c["value"] for c in context.cookies()}.get("tz") == "America/New_York"
        page.goto("/assignments/strategist/handbook")
        due = page.locator("time[datetime='2025-03-24T09:00:00Z']").first
        # Daylight saving time began in New York on 9 March 2025: 09:00 UTC is 05:00 EDT.
        assert due.inner_text() == "24 Mar 2025, 05:00 EDT"
        assert due.get_attribute("title") == "24 Mar 2025, 05:00 EDT (America/New_York)"
    finally:
        context.close()

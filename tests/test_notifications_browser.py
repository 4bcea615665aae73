"""In a real browser: an instructor releases a grade; the student's bell shows 1 unread, the list has the notice,
and the email arrived at the SMTP server, sent by the server's own job thread (JOBS_RUNNER=thread, as `make run`
does on SQLite) with no worker started by hand."""

from __future__ import annotations

import time
from typing import Any

import pytest

from lms.accounts.models import Role
from tests.fixtures.files import rows
from tests.test_assignments_browser import sign_in, sign_out

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    return {**app_config, **smtp_server.settings(), "JOBS_RUNNER": "thread", "JOBS_POLL_SECONDS": 1}


def test_a_released_grade_lights_the_students_bell_and_is_emailed(page, make_user, smtp_server):
    student = make_user(Role.STUDENT, email="stella@example.org", full_name="Stella Student")
    make_user(Role.INSTRUCTOR, email="ingrid@example.org", full_name="Ingrid Instructor")
    track = rows.make_track()
    assignment = rows.make_assignment(track, criteria=3)
    rows.enroll(student, track)
    submission = rows.hand_in(student, assignment)
    grader = make_user(Role.INSTRUCTOR)
    rows.grade(grader, submission)  # saved, not released
    submission_id = submission.id

    sign_in(page, "ingrid@example.org")
    page.goto(f"/grading/submissions/{submission_id}")
    page.get_by_role("button", name="Release grade to the student").click()
    page.get_by_text("The grade is released: passed.").wait_for()
    sign_out(page)

    sign_in(page, "stella@example.org")
    bell = page.get_by_role("link", name="Notifications, 1 unread")
    bell.wait_for()
    assert page.locator("[data-bell-count]").inner_text() == "1"
    bell.click()
    page.get_by_text("Your grade for Social Media Strategy Handbook is released").wait_for()

    deadline = time.monotonic() + 15  # the server's job thread sends it; this process only waits to see it
    while not smtp_server.inbox.to("stella@example.org") and time.monotonic() < deadline:
        time.sleep(0.05)
    [message] = smtp_server.inbox.to("stella@example.org")
    assert message["Subject"] == "Your grade for Social Media Strategy Handbook is released"

    page.get_by_role("button", name="Open").click()
    page.get_by_role("heading", name="Feedback", exact=True).wait_for()
    page.get_by_role("link", name="Notifications, none unread").wait_for()  # read once opened

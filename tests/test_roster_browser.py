"""In a real browser: an admin opens Import enrolments from the menu, uploads a CSV, reads the preview and applies
it; the result page counts what was done."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role, User
from lms.courses.models import Enrollment
from lms.extensions import db
from tests.fixtures.files import rows
from tests.test_assignments_browser import sign_in

pytestmark = pytest.mark.browser


def test_upload_preview_and_apply(page, make_user, tmp_path):
    make_user(Role.ADMIN, email="adam@example.org", full_name="Adam Admin")
    rows.make_track()
    people = tmp_path / "people.csv"
    people.write_text(
        "email;name;track;cohort\nada@example.org;Ada Lovelace;strategist;Spring\n"
        "grace@example.org;Grace Hopper;Social Media Strategist;\n",
        encoding="utf-8-sig",
    )
    sign_in(page, "adam@example.org")
    page.get_by_role("link", name="Import enrolments").first.click()
    page.get_by_label("CSV file").set_input_files(str(people))
    page.get_by_role("button", name="Preview").click()
    page.get_by_role("heading", name="Preview").wait_for()
    assert page.locator('tr[data-kind="create"]').count() == 2
    assert "2 to create and enrol" in page.locator("[data-counts]").inner_text()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1  # nothing written yet
    page.get_by_role("button", name="Apply").click()
    page.get_by_role("heading", name="The file is applied").wait_for()
    assert page.locator('[data-count="created"]').inner_text() == "2"
    assert page.locator('[data-count="cohorts"]').inner_text() == "1"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 2

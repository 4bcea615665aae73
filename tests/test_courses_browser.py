"""In a real browser: enrol in a track, read a lesson, mark it complete, and see the progress bar move."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.fixtures.courses.samples import make_track

pytestmark = pytest.mark.browser


def test_enrol_read_complete_and_see_progress_move(page, make_user):
    student = make_user(full_name="Stella Student")
    make_track("sample", modules=2, lessons_per_module=2)
    page.goto("/login")
    page.get_by_label("Email").fill(student.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Tracks").click()
    page.get_by_role("link", name="Track sample").click()
    page.get_by_role("button", name="Enrol in this track").click()
    page.get_by_text("You are enrolled in Track sample").wait_for()
    track_bar = page.get_by_role("progressbar", name="Track progress")
    assert track_bar.get_attribute("aria-valuenow") == "0"

    page.get_by_role("link", name="Start the first lesson").click()
    page.get_by_role("heading", name="Lesson 1.1").wait_for()
    assert page.get_by_text("Body of lesson 1.1.").is_visible()
    fill = page.locator("[data-track-progress] .progress-fill")
    assert fill.evaluate("element => element.getBoundingClientRect().width") == 0

    page.get_by_role("button", name="Mark as complete").click()
    page.get_by_text("“Lesson 1.1” is complete.").wait_for()
    bar = page.locator("[data-track-progress]").get_by_role("progressbar")
    assert bar.get_attribute("aria-valuenow") == "25"
    assert page.locator("[data-track-progress]").get_by_text("1 of 4 lessons · 25%").is_visible()
    # The bar really is drawn a quarter full (the width comes from the stylesheet, not an inline style).
    outer = bar.evaluate("element => element.getBoundingClientRect().width")
    inner = fill.evaluate("element => element.getBoundingClientRect().width")
    assert inner == pytest.approx(outer / 4, abs=2)

    page.get_by_role("link", name="Next: Lesson 1.2").click()
    page.get_by_role("heading", name="Lesson 1.2").wait_for()

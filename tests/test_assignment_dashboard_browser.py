"""In a real browser: the dashboard, where a student's tracks and assignments meet, draws each progress bar at the
real percentage (it once drew every bar full: the widths lived in a stylesheet the dashboard does not load)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.courses import operations as courses
from lms.courses.models import Lesson
from lms.extensions import db
from tests.conftest import PASSWORD
from tests.fixtures.courses.samples import make_track

pytestmark = pytest.mark.browser


def test_the_dashboard_bar_is_as_long_as_the_percentage_says(page, make_user):
    student = make_user(full_name="Stella Student")
    track = make_track("eight", modules=2, lessons_per_module=4)
    courses.enroll(student, track)
    first = db.session.scalars(
        sa.select(Lesson).where(Lesson.track_id == track.id).order_by(Lesson.module_id, Lesson.position)
    ).first()
    courses.complete_lesson(student, first)

    page.goto("/login")
    page.get_by_label("Email").fill(student.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    bar = page.get_by_role("progressbar", name="Progress in Track eight")
    bar.wait_for()
    percent = int(bar.get_attribute("aria-valuenow"))
    assert percent in (12, 13)  # one lesson of eight
    outer = bar.bounding_box()
    inner = bar.locator(".progress-fill").bounding_box()
    assert outer is not None and inner is not None and outer["width"] > 100
    assert inner["width"] == pytest.approx(outer["width"] * percent / 100, abs=2)
    assert page.get_by_text(f"1 of 8 lessons · {percent}%").is_visible()

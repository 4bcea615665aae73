"""In a real browser: a student completes a track and sees the certificate; a visitor verifies it; an admin
revokes it and the same URL says so."""

from __future__ import annotations

import pytest

from lms.accounts.models import Role
from lms.certificates import eligibility
from lms.courses.models import LessonCompletion
from lms.extensions import db
from tests.conftest import PASSWORD
from tests.fixtures.courses.samples import enrol_directly, lesson_by_slug, make_track

pytestmark = pytest.mark.browser


@pytest.fixture
def live_server_inherits(monkeypatch):
    """The quiz and handbook parts of the rule are met (stand-ins the server inherits); the modules part is real."""
    monkeypatch.setattr(eligibility, "has_passed_quiz", lambda user_id, slug: True)
    monkeypatch.setattr(eligibility, "has_passed_assignment", lambda user_id, track_id: True)


@pytest.fixture
def almost_done(app, make_user):
    """A student one lesson short of the rule (rows written after the fork: the server reads the same database)."""
    track = make_track(slug="browser-track")
    track.completion = {"modules": "all", "quizzes": ["browser-final"], "assignment": "handbook"}
    student = make_user(Role.STUDENT, email="cora@example.org", full_name="Cora Completer")
    make_user(Role.ADMIN, email="root@example.org", full_name="Ada Admin")
    enrol_directly(student.id, track)
    for slug in ("m1-l1", "m1-l2", "m2-l1"):
        db.session.add(LessonCompletion(user_id=student.id, lesson_id=lesson_by_slug(track, slug).id))
    db.session.commit()
    return track


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Welcome").wait_for()


def test_student_earns_it_visitor_verifies_it_admin_revokes_it(almost_done, page, chromium, live_server):
    sign_in(page, "cora@example.org")
    page.goto("/dashboard")
    assert page.get_by_text("When you complete a track, your certificate appears here").count() == 1

    page.goto("/tracks/browser-track/lessons/m2-l2")
    page.get_by_role("button", name="Mark as complete").click()
    page.get_by_text("is complete.").wait_for()
    page.goto("/dashboard")
    panel = page.locator("section.certificates-panel")
    panel.get_by_role("link", name="Track browser-track").click()
    page.get_by_role("heading", name="Track browser-track certificate").wait_for()
    assert page.get_by_text("VALID", exact=True).count() == 1
    url = page.get_by_label("Verification link").input_value()
    assert url.startswith(live_server.url("/verify/"))
    page.get_by_role("button", name="Copy link").click()
    page.get_by_text("Press Ctrl+C").or_(page.get_by_text("Link copied")).wait_for()

    visitor = chromium.new_context()
    try:
        tab = visitor.new_page()
        response = tab.goto(url)
        assert response.status == 200
        banner = tab.locator(".verify-banner")
        assert banner.locator(".verify-banner__status").inner_text() == "VALID"
        assert tab.locator(".verify-holder").inner_text() == "Cora Completer"

        admin = chromium.new_context(base_url=live_server.url())
        try:
            admin_tab = admin.new_page()
            sign_in(admin_tab, "root@example.org")
            code = url.rsplit("/", 1)[1]
            admin_tab.goto(f"/staff/certificates/{code}")
            admin_tab.get_by_label("Reason for revoking").fill("Handbook was not the student's own work")
            admin_tab.get_by_role("button", name="Revoke certificate").click()
            admin_tab.get_by_text(f"Certificate {code} is revoked.").wait_for()
        finally:
            admin.close()

        response = tab.goto(url)
        assert response.status == 410
        assert tab.locator(".verify-banner__status").inner_text() == "REVOKED"
        assert "Handbook was not the student's own work" in tab.locator(".verify-banner").inner_text()
        assert "Cora" not in tab.content()
    finally:
        visitor.close()

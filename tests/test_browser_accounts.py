"""In a real browser: register, sign in, sign out, and the nav shows what the role may use."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.extensions import db

pytestmark = pytest.mark.browser


def test_register_then_sign_in_and_out(page):
    page.goto("/register")
    page.get_by_label("Full name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("Ada@Example.org")
    page.get_by_label("Password", exact=True).fill("analytical-engine-1843")
    page.get_by_label("Repeat password").fill("analytical-engine-1843")
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()  # not signed in until they sign in
    assert db.session.execute(sa.select(User.email)).scalar_one() == "ada@example.org"
    assert page.get_by_role("link", name="Dashboard").count() == 0

    page.goto("/login")
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_label("Password").fill("analytical-engine-1843")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Welcome, Ada Lovelace").wait_for()
    assert page.get_by_role("link", name="Dashboard").count() == 1
    assert page.get_by_role("link", name="Users").count() == 0  # students do not see the admin's menu
    page.get_by_role("button", name="Send the confirmation link again").wait_for()  # not confirmed yet

    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for()
    assert page.get_by_role("link", name="Dashboard").count() == 0


def test_a_bad_password_is_explained_beside_the_field(page):
    page.goto("/register")
    page.get_by_label("Full name").fill("Short Password")
    page.get_by_label("Email").fill("short@example.org")
    page.get_by_label("Password", exact=True).fill("tiny")
    page.get_by_label("Repeat password").fill("tiny")
    page.get_by_role("button", name="Create account").click()
    error = page.locator("#password-error")
    error.wait_for()
    assert "at least 10 characters" in error.inner_text()
    assert page.get_by_label("Password", exact=True).get_attribute("aria-invalid") == "true"

"""In a real browser: a student uploads a PDF and submits it, an instructor grades it with the rubric and
releases it, and the student reads the feedback per criterion."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from lms.accounts.models import Role
from lms.assignments.models import Submission
from lms.extensions import db
from tests.conftest import PASSWORD
from tests.fixtures.files import rows, samples

pytestmark = pytest.mark.browser


def sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile("^Welcome")).wait_for()


def sign_out(page) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for()


def test_upload_submit_grade_release_and_read_the_feedback(page, make_user):
    student = make_user(Role.STUDENT, email="stella@example.org", full_name="Stella Student")
    make_user(Role.INSTRUCTOR, email="ingrid@example.org", full_name="Ingrid Instructor")
    track = rows.make_track()
    rows.make_assignment(track, criteria=3)
    rows.enroll(student, track)

    # The student uploads a PDF as a draft, then submits it with the confirmation.
    sign_in(page, "stella@example.org")
    page.get_by_role("link", name="Social Media Strategy Handbook").click()
    page.get_by_label("Your file").set_input_files(
        {"name": "my-handbook.pdf", "mimeType": "application/pdf", "buffer": samples.pdf("Stella's handbook")}
    )
    page.get_by_role("button", name="Upload draft").click()
    page.get_by_text("Your file is uploaded as a draft.").wait_for()
    assert page.locator(".draft").get_by_role("link", name="my-handbook.pdf").count() == 1
    page.get_by_label("I confirm that this is the version I want graded").check()
    page.get_by_role("button", name="Submit for grading").click()
    page.get_by_text("Version 1 is submitted for grading.").wait_for()
    sign_out(page)

    # The instructor finds it in the queue, sees the PDF beside the rubric, grades and releases it.
    sign_in(page, "ingrid@example.org")
    page.get_by_role("link", name="Grading", exact=True).click()
    page.get_by_role("link", name=re.compile("^Grade submission")).click()
    preview = page.locator("iframe.pdf-preview")
    assert preview.count() == 1
    answer = page.request.get(preview.get_attribute("src"))
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.headers["content-disposition"].startswith("inline")
    for title, level in [
        ("Goal and purpose", "Excellent"),
        ("Market research", "Sound"),
        ("SWOT analysis", "Sound"),
    ]:
        group = page.get_by_role("group", name=re.compile(title))
        group.get_by_label(re.compile(f"^{level}")).check()
        group.get_by_text("Comment", exact=True).click()  # comments fold away until opened
        page.get_by_label(f"Comment on {title}").fill(f"Feedback on {title.lower()}: well done.")
    page.get_by_label("Overall feedback").fill("A coherent handbook.")
    page.get_by_label("Pass", exact=True).check()
    page.get_by_role("button", name="Save grade as draft").click()
    page.get_by_text("The grade is saved as a draft.").wait_for()
    page.get_by_role("button", name="Release grade to the student").click()
    page.get_by_text("The grade is released: passed.").wait_for()
    sign_out(page)

    # The student reads the released feedback, criterion by criterion.
    sign_in(page, "stella@example.org")
    page.get_by_role("link", name="See feedback").click()
    page.get_by_role("heading", name="Feedback", exact=True).wait_for()
    assert "7 of 9 points" in page.locator(".decision").inner_text()
    for title, level in [
        ("Goal and purpose", "Excellent"),
        ("Market research", "Sound"),
        ("SWOT analysis", "Sound"),
    ]:
        row = page.get_by_role("row", name=re.compile(title))
        text = row.inner_text()
        assert level in text and f"Feedback on {title.lower()}: well done." in text
    assert page.get_by_text("A coherent handbook.").count() == 1
    db.session.expire_all()
    assert db.session.execute(sa.select(Submission.state)).scalar_one() == "released"

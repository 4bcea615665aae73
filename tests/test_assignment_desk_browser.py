"""In a real browser: an instructor attaches a feedback file, grades with the rubric grid by keyboard alone, saves
and goes to the next submission, comes back and releases; the student reads the breakdown and downloads the file.
The desk fits the submission beside the rubric on a 1440 px screen."""

from __future__ import annotations

import re

import pytest

from lms.accounts.models import Role
from tests.fixtures.files import rows, samples
from tests.test_assignments_browser import sign_in, sign_out

pytestmark = pytest.mark.browser

ANNOTATED = samples.pdf("Stella's handbook, with comments")


def focused(page) -> str:
    return page.evaluate("document.activeElement.id")


def test_grade_by_keyboard_save_and_next_release_and_the_student_reads_it(page, make_user):
    stella = make_user(Role.STUDENT, email="stella@example.org", full_name="Stella Student")
    other = make_user(Role.STUDENT, email="sam@example.org", full_name="Sam Student")
    make_user(Role.INSTRUCTOR, email="ingrid@example.org", full_name="Ingrid Instructor")
    track = rows.make_track()
    assignment = rows.make_assignment(track, criteria=3)
    for student in (stella, other):
        rows.enroll(student, track)
    first = rows.hand_in(stella, assignment, samples.pdf("Stella's handbook"), "stella.pdf")
    second = rows.hand_in(other, assignment, samples.pdf("Sam's handbook"), "sam.pdf")
    criteria = [c.id for c in assignment.active_criteria]
    first_id, second_id = first.id, second.id

    sign_in(page, "ingrid@example.org")
    page.set_viewport_size({"width": 1440, "height": 900})
    page.get_by_role("link", name="Grading", exact=True).click()
    page.get_by_role("link", name=f"Grade submission {first_id}").click()
    page.get_by_text("1 of 2", exact=True).wait_for()

    # The submission and the rubric side by side, nothing wider than the screen.
    document = page.locator(".grading-document").bounding_box()
    rubric = page.locator(".grading-rubric").bounding_box()
    assert document["x"] + document["width"] <= rubric["x"] and abs(document["y"] - rubric["y"]) < 2
    assert page.evaluate("document.documentElement.scrollWidth") <= 1440

    # A feedback file first (its own form).
    page.get_by_label("Feedback file", exact=True).set_input_files(
        {"name": "stella-annotated.pdf", "mimeType": "application/pdf", "buffer": ANNOTATED}
    )
    page.get_by_role("button", name="Attach feedback file").click()
    page.get_by_text("The feedback file is attached (version 1).").wait_for()

    # The grid by keyboard: arrows move without choosing, Enter or Space chooses.
    total = page.locator("[data-rubric-total]")
    assert total.inner_text() == "0 of 9 points"
    page.locator(f"#level-{criteria[0]}-0").focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert focused(page) == f"level-{criteria[0]}-3"
    assert page.locator(f"#level-{criteria[0]}-3").is_checked() is False
    page.keyboard.press("Enter")  # chooses, and does not send the form
    assert page.locator(f"#level-{criteria[0]}-3").is_checked()
    assert total.inner_text() == "3 of 9 points"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowLeft")
    assert focused(page) == f"level-{criteria[1]}-2"
    page.keyboard.press(" ")
    page.keyboard.press("ArrowDown")
    assert focused(page) == f"level-{criteria[2]}-2"
    page.keyboard.press("Enter")
    assert total.inner_text() == "7 of 9 points"
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowRight")
    assert focused(page) == f"level-{criteria[1]}-3"
    assert page.locator(f"#level-{criteria[1]}-2").is_checked()  # moving away changed nothing

    group = page.get_by_role("group", name=re.compile("Market research"))
    group.get_by_text("Comment", exact=True).click()
    page.get_by_label("Comment on Market research").fill("Name your sources.")
    page.get_by_label("Overall feedback").fill("A coherent handbook.")
    page.get_by_label("Pass", exact=True).check()
    page.get_by_role("button", name="Save and next").click()

    # The next submission in the list; then back to release the first.
    page.get_by_text("2 of 2", exact=True).wait_for()
    assert page.url.endswith(f"/grading/submissions/{second_id}?state=todo")
    page.get_by_role("link", name="← Previous").click()
    page.get_by_text("1 of 2", exact=True).wait_for()
    assert page.locator("[data-rubric-total]").inner_text() == "7 of 9 points"
    page.get_by_role("button", name="Release grade to the student").click()
    page.get_by_text("The grade is released: passed.").wait_for()
    sign_out(page)

    # The student reads the breakdown and downloads the feedback file.
    sign_in(page, "stella@example.org")
    page.get_by_role("link", name="See feedback").click()
    page.get_by_role("heading", name="Feedback", exact=True).wait_for()
    assert "7 of 9 points" in page.locator(".decision").inner_text()
    for title, level, points in [
        ("Goal and purpose", "Excellent", "3 / 3"),
        ("Market research", "Sound", "2 / 3"),
        ("SWOT analysis", "Sound", "2 / 3"),
    ]:
        text = page.get_by_role("row", name=re.compile(title)).inner_text()
        assert level in text and points in text
    assert "Name your sources." in page.get_by_role("row", name=re.compile("Market research")).inner_text()
    with page.expect_download() as caught:
        page.get_by_role("link", name="Download the feedback file").click()
    download = caught.value
    assert download.suggested_filename == "stella-annotated.pdf"
    with open(download.path(), "rb") as fh:
        assert fh.read() == ANNOTATED

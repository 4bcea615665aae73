"""In a real browser: autosave, going offline and back, a reload mid-attempt, the timer submitting at zero, the
plain form without JavaScript; two tabs on one attempt, extra time while the page is open, the summary before
submitting with the navigator and flags. Short limits (set on the server) keep each test to a few seconds."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from lms.clock import now_utc
from lms.extensions import db
from lms.quizzes import operations
from lms.quizzes.models import AnswerSave, Attempt
from tests.conftest import PASSWORD
from tests.test_quiz_support import setup_quiz

pytestmark = pytest.mark.browser


@pytest.fixture
def quiz(app, tmp_path, student):
    return setup_quiz(tmp_path, student)


def sign_in(page, user) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=f"Welcome, {user.full_name}").wait_for()


def start_quiz(page) -> int:
    page.goto("/quizzes/basics-quiz")
    page.get_by_role("button", name=re.compile("Start the quiz")).click()
    page.get_by_role("button", name="Submit your answers").wait_for()
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def state(page, question: str):
    return page.locator(f"#state-{question}")


def wait_saved(page, question: str) -> None:
    expect(state(page, question)).to_have_text(re.compile(r"^saved \d\d:\d\d:\d\d UTC$"), timeout=10_000)


def remaining_seconds(page) -> int:
    text = page.locator("#quiz-remaining").inner_text().strip()
    parts = [int(p) for p in text.split(":")]
    return parts[-2] * 60 + parts[-1] + (parts[0] * 3600 if len(parts) == 3 else 0)


def test_offline_answers_are_sent_on_reconnect_and_the_timer_submits_everything(quiz, student, page):
    sign_in(page, student)
    attempt_id = start_quiz(page)
    page.get_by_label("A clear business goal").check()
    wait_saved(page, "goal")

    page.context.set_offline(True)
    page.get_by_label("True", exact=True).check()
    page.get_by_label("Channel coverage").check()
    page.get_by_label("Your answer to question 4").fill("Return on investment")
    expect(state(page, "roi")).to_have_text("not saved: offline", timeout=10_000)
    assert state(page, "pilot").inner_text() == "not saved: offline"
    assert page.locator("#quiz-connection").is_visible()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AnswerSave)) == 1

    page.context.set_offline(False)
    for question in ("pilot", "pick", "roi"):
        wait_saved(page, question)
    saved = dict(db.session.execute(sa.select(AnswerSave.question_id, AnswerSave.value)).all())
    assert saved == {"goal": "c1", "pilot": True, "pick": ["c1"], "roi": "Return on investment"}

    # The server moves the deadline to two seconds from now; the next save's answer tells the page.
    db.session.execute(sa.update(Attempt).values(deadline=now_utc() + timedelta(seconds=2)))
    db.session.commit()
    page.get_by_label("Data quality").check()
    wait_saved(page, "pick")
    page.wait_for_url(re.compile(rf"/quizzes/attempts/{attempt_id}/result$"))
    assert "4 answered" in page.locator("#quiz-result").inner_text()
    db.session.expire_all()
    done = db.session.get(Attempt, attempt_id)
    assert (done.state, done.submitted_by, done.score) == ("submitted", "timer", 5.0)


def test_a_reload_keeps_the_answers_and_the_remaining_time(quiz, student, page):
    sign_in(page, student)
    start_quiz(page)
    page.get_by_label("The most popular platform").check()
    page.get_by_label("Your answer to question 4").fill("ROI")
    wait_saved(page, "goal")
    wait_saved(page, "roi")
    before = remaining_seconds(page)
    page.reload()
    page.get_by_role("button", name="Submit your answers").wait_for()
    after = remaining_seconds(page)
    assert 0 <= before - after <= 3  # the same deadline, not a fresh countdown
    assert after > 500
    assert page.get_by_label("The most popular platform").is_checked()
    assert page.get_by_label("Your answer to question 4").input_value() == "ROI"
    assert re.fullmatch(r"saved \d\d:\d\d:\d\d UTC", state(page, "goal").inner_text())

    page.get_by_role("button", name="Submit your answers").click()
    # Two questions are unanswered: the summary asks first.
    page.get_by_role("button", name="Submit with 2 unanswered questions").click()
    page.wait_for_url(re.compile(r"/result$"))
    assert "1 of 5 points (20.0%)" in page.locator("#quiz-score").inner_text()


def test_warnings_and_the_announcement_near_the_end(quiz, student, page):
    sign_in(page, student)
    attempt_id = start_quiz(page)
    db.session.execute(sa.update(Attempt).values(deadline=now_utc() + timedelta(seconds=290)))
    db.session.commit()
    page.reload()
    warning = page.locator("#quiz-warning")
    warning.wait_for()
    assert warning.inner_text() == "5 minutes left."
    assert page.locator("#quiz-announcer").get_attribute("aria-live") == "polite"
    expect(page.locator("#quiz-announcer")).to_contain_text("minutes left")
    db.session.execute(
        sa.update(Attempt).where(Attempt.id == attempt_id).values(deadline=now_utc() + timedelta(seconds=50))
    )
    db.session.commit()
    page.reload()
    expect(page.locator("#quiz-warning")).to_have_text(re.compile(r"^1 minute left"))


def test_without_javascript_the_quiz_is_a_plain_form(quiz, student, chromium, live_server):
    context = chromium.new_context(base_url=live_server.url(), java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, student)
        attempt_id = start_quiz(page)
        page.get_by_label("A clear business goal").check()
        page.get_by_label("Channel coverage").check()
        page.get_by_label("Data quality").check()
        page.get_by_label("True", exact=True).check()
        page.get_by_label("Your answer to question 4").fill("roi")
        page.get_by_role("button", name="Submit your answers").click()
        page.wait_for_url(re.compile(rf"/quizzes/attempts/{attempt_id}/result$"))
        assert "5 of 5 points (100.0%)" in page.locator("#quiz-score").inner_text()
    finally:
        context.close()


def test_two_tabs_on_one_attempt_the_stale_tabs_change_is_refused_and_shown(quiz, student, page):
    sign_in(page, student)
    attempt_id = start_quiz(page)
    stale = page.context.new_page()
    stale.goto(f"/quizzes/attempts/{attempt_id}")
    stale.get_by_role("button", name="Submit your answers").wait_for()

    page.get_by_label("A clear business goal").check()
    wait_saved(page, "goal")
    # This tab never saw the first tab's answer. click(), not check(): the page may put the server's answer back
    # before Playwright looks again, which check() would report as a click that did not take.
    stale.get_by_label("The most popular platform").click()
    expect(state(stale, "goal")).to_have_text(re.compile(r"^changed in another tab"), timeout=10_000)
    assert stale.get_by_label("A clear business goal").is_checked()  # it shows the answer that counts
    assert not stale.get_by_label("The most popular platform").is_checked()
    assert operations.current_answers(attempt_id)["goal"].value == "c1"

    stale.get_by_label(
        "The most popular platform"
    ).check()  # changed again, knowing the other: newer, so it wins
    wait_saved(stale, "goal")
    page.reload()
    page.get_by_role("button", name="Submit your answers").wait_for()
    assert page.get_by_label("The most popular platform").is_checked()
    db.session.expire_all()
    assert operations.current_answers(attempt_id)["goal"].value == "c2"


def test_extra_time_given_while_the_page_is_open_keeps_the_attempt_going(quiz, student, instructor, page):
    sign_in(page, student)
    attempt_id = start_quiz(page)
    db.session.execute(sa.update(Attempt).values(deadline=now_utc() + timedelta(seconds=4)))
    db.session.commit()
    page.reload()
    page.get_by_role("button", name="Submit your answers").wait_for()
    asked = []
    page.on("request", lambda r: asked.append(r.post_data or "") if r.url.endswith("/submit") else None)
    operations.add_extra_time(instructor, attempt_id, 5)  # the page does not know yet

    # Its timer reaches zero on the old deadline and asks; the server answers with the new one, and it goes on.
    expect(page.locator("#quiz-remaining")).to_have_text(re.compile(r"^[45]:\d\d$"), timeout=15_000)
    assert any("time_up" in body for body in asked)
    assert page.url.endswith(f"/quizzes/attempts/{attempt_id}")
    page.get_by_label("A clear business goal").check()
    wait_saved(page, "goal")
    db.session.expire_all()
    assert db.session.get(Attempt, attempt_id).state == "in_progress"
    # The browser runs in UTC (tests/browser.py), which the page names.
    assert page.locator("#quiz-until").inner_text() == db.session.get(Attempt, attempt_id).deadline.strftime(
        "%H:%M:%S UTC"
    )


def test_the_summary_page_with_an_unanswered_question(quiz, student, page):
    sign_in(page, student)
    attempt_id = start_quiz(page)
    navigator = page.get_by_role("navigation", name="Questions")
    assert (
        navigator.get_by_role("link", name="Question 1, not answered").get_attribute("aria-current")
        == "location"
    )
    page.get_by_label("A clear business goal").check()
    page.get_by_label("Channel coverage").check()
    page.get_by_label("True", exact=True).check()
    for question in ("goal", "pick", "pilot"):
        wait_saved(page, question)
    page.get_by_role("button", name="Flag for review, question 2").click()
    expect(page.get_by_role("button", name="Flag for review, question 2")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(navigator.get_by_role("link", name="Question 2, answered, flagged for review")).to_be_visible()
    assert navigator.get_by_role("link", name="Question 4, not answered").is_visible()
    page.get_by_label("Your answer to question 4").press("Enter")  # Enter submits nothing, flags nothing
    page.wait_for_timeout(500)
    assert page.url.endswith(f"/quizzes/attempts/{attempt_id}")
    assert (
        page.get_by_role("button", name="Flag for review, question 1").get_attribute("aria-pressed")
        == "false"
    )

    page.get_by_role("button", name="Submit your answers").click()
    page.wait_for_url(re.compile(rf"/quizzes/attempts/{attempt_id}/summary$"))
    assert page.locator("#quiz-unanswered").inner_text() == "Not answered: question 4."
    assert page.locator("#quiz-flagged").inner_text() == "Flagged for review: question 2."
    page.locator("#quiz-unanswered").get_by_role("link", name="question 4").click()
    page.wait_for_url(re.compile(rf"/quizzes/attempts/{attempt_id}#question-roi$"))
    page.go_back()
    page.get_by_role("button", name="Submit with 1 unanswered question").click()
    page.wait_for_url(re.compile(rf"/quizzes/attempts/{attempt_id}/result$"))
    assert "3 answered" in page.locator("#quiz-result").inner_text()


def test_the_warning_follows_the_remaining_time(quiz, student, page):
    sign_in(page, student)
    start_quiz(page)
    db.session.execute(sa.update(Attempt).values(deadline=now_utc() + timedelta(seconds=100)))
    db.session.commit()
    page.reload()
    expect(page.locator("#quiz-warning")).to_have_text(
        "2 minutes left."
    )  # beside 1:40, never "5 minutes left"
    expect(page.locator("#quiz-remaining")).to_have_text(re.compile(r"^1:[34]\d$"))


def test_without_javascript_flags_and_the_summary_work_as_plain_forms(quiz, student, chromium, live_server):
    context = chromium.new_context(base_url=live_server.url(), java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        sign_in(page, student)
        attempt_id = start_quiz(page)
        page.get_by_label("A clear business goal").check()
        page.get_by_role("button", name="Flag for review, question 2").click()  # keeps the answer given above
        page.wait_for_url(re.compile(rf"/quizzes/attempts/{attempt_id}#question-pick$"))
        assert (
            page.get_by_role("button", name="Flag for review, question 2").get_attribute("aria-pressed")
            == "true"
        )
        assert page.get_by_label("A clear business goal").is_checked()
        page.get_by_role("button", name="Submit your answers").click()
        page.wait_for_url(re.compile(rf"/quizzes/attempts/{attempt_id}/summary$"))
        assert "3 questions are not answered yet" in page.locator(".flashes").inner_text()
        assert page.locator("#quiz-flagged").inner_text() == "Flagged for review: question 2."
        page.get_by_role("button", name="Submit with 3 unanswered questions").click()
        page.wait_for_url(re.compile(rf"/quizzes/attempts/{attempt_id}/result$"))
        assert "1 answered" in page.locator("#quiz-result").inner_text()
    finally:
        context.close()

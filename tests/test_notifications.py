"""Notifications end to end through a real SMTP server (tests/smtp.py): an event in a transaction, the notice and
its email job committed with it, the job sending a message in two parts with working links and unsubscribe
headers, the bell's count, read marks, per-kind choices and one-click unsubscribe."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from lms import clock, events, jobs
from lms.accounts import operations as accounts
from lms.extensions import db
from lms.jobs import Job
from lms.notifications import operations
from lms.notifications.models import Notification
from tests.fixtures.files import rows
from tests.smtp import html_part, text_part

BASE = "https://learn.example.org"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    return {**app_config, **smtp_server.settings(), "BASE_URL": BASE, "MAIL_FROM": "lms@learn.example.org"}


@pytest.fixture
def released(app, student, instructor) -> Any:
    """A handbook graded and released to the student (the email job waits in the queue)."""
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track)
    rows.enroll(student, track)
    submission = rows.hand_in(student, assignment)
    rows.grade(instructor, submission, release=True)
    return submission


def _path(url: str) -> str:
    assert url.startswith(BASE), url
    return url[len(BASE) :]


def test_a_released_grade_is_emailed_with_its_total_and_a_link_that_works(
    released, student, client, login, smtp_server
):
    assert smtp_server.messages == [], "sent by the job, not inside the request"
    assert jobs.run_pending() >= 1

    [message] = smtp_server.inbox.to(student.email)
    assert message["Subject"] == "Your grade for Social Media Strategy Handbook is released"
    assert message["From"] == "lms@learn.example.org"
    assert student.email in message["To"] and "Stella Student" in message["To"]
    assert message["Message-ID"].startswith("<notification-")
    assert message.is_multipart() and message.get_content_type() == "multipart/alternative"
    text, html = text_part(message), html_part(message)
    grade = released.grade
    assert (
        f"{grade.points} / {grade.max_points} points" in text
        and f"{grade.points} / {grade.max_points}" in html
    )
    link = re.search(r"Open it: (\S+)", text).group(1)
    assert link == f"{BASE}/assignments/submissions/{released.id}" and f'href="{link}"' in html

    login(client, student)
    page = client.get(_path(link))
    assert page.status_code == 200 and "Social Media Strategy Handbook" in page.get_data(as_text=True)

    # One click, by the mail provider (RFC 8058): a POST with no session and no CSRF token.
    unsubscribe = message["List-Unsubscribe"].strip("<>")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe in text and f'href="{unsubscribe}"' in html
    anonymous = client.application.test_client()
    done = anonymous.post(_path(unsubscribe), data={"List-Unsubscribe": "One-Click"}, csrf=False)
    assert done.status_code == 200 and "You are unsubscribed" in done.get_data(as_text=True)
    assert operations.preferences_of(student.id)["grade_released"] == "off"


def test_the_bell_counts_unread_notices_and_reading_them_clears_it(released, student, client, login):
    login(client, student)
    assert client.get("/notifications/unread.json").get_json() == {"unread": 1}
    page = client.get("/notifications").get_data(as_text=True)
    assert "Your grade for Social Media Strategy Handbook is released" in page
    assert (
        'data-bell data-unread-url="/notifications/unread.json"' in page
        and 'aria-label="Notifications"' in page
    )

    notice = db.session.execute(
        sa.select(Notification).where(Notification.user_id == student.id)
    ).scalar_one()
    opened = client.post(f"/notifications/{notice.id}/open")
    assert (
        opened.status_code == 302 and opened.headers["Location"] == f"/assignments/submissions/{released.id}"
    )
    assert client.get("/notifications/unread.json").get_json() == {"unread": 0}


def test_no_one_reads_or_marks_anothers_notices(released, make_user, client, login):
    notice = db.session.execute(sa.select(Notification)).scalar_one()
    login(client, make_user())
    assert client.post(f"/notifications/{notice.id}/read").status_code == 404
    assert client.post(f"/notifications/{notice.id}/open").status_code == 404
    assert "Social Media Strategy Handbook" not in client.get("/notifications").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Notification, notice.id).read_at is None


def test_a_change_that_rolls_back_leaves_no_notice_and_no_email(app, student, smtp_server):
    events.emit(events.AccountChanged(user_id=student.id, actor_id=None, what="password", at=clock.now_utc()))
    assert db.session.execute(sa.select(sa.func.count()).select_from(Job)).scalar_one() == 1, (
        "in the transaction"
    )
    db.session.rollback()  # the change failed
    assert db.session.execute(sa.select(sa.func.count()).select_from(Notification)).scalar_one() == 0
    assert db.session.execute(sa.select(sa.func.count()).select_from(Job)).scalar_one() == 0
    assert jobs.run_pending() == 0 and smtp_server.messages == []


def test_in_app_only_keeps_the_notice_and_sends_no_email(app, student, smtp_server):
    operations.set_preference(student.id, "regrade_answered", "in_app")
    events.emit(
        events.RegradeAnswered(submission_id=999, user_id=student.id, actor_id=student.id, accepted=False)
    )
    db.session.commit()
    jobs.run_pending()
    assert smtp_server.messages == []
    assert [n.kind for n in operations.notifications_of(student.id)] == ["regrade_answered"]


def test_security_notices_cannot_be_turned_off_and_carry_no_unsubscribe(
    app, student, client, login, smtp_server
):
    login(client, student)
    client.post("/notifications/preferences", data={"security": "off"})  # not offered: the choice is ignored
    assert operations.preferences_of(student.id)["security"] == "email"
    with pytest.raises(Exception, match="cannot be turned off"):
        operations.set_preference(student.id, "security", "off")
    assert operations.read_unsubscribe_token(operations.unsubscribe_token(student.id, "security")) is None

    accounts.change_password(student, "correct-horse-battery", "a-new-long-passphrase-9")
    jobs.run_pending()
    [message] = smtp_server.inbox.to(student.email)
    assert message["Subject"] == "Your password was changed"
    assert "List-Unsubscribe" not in message
    assert "Security notices are always sent" in text_part(message)


def test_preferences_are_saved_per_kind_and_bad_input_is_a_clear_message(app, student, client, login):
    login(client, student)
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'name="grade_released"' in page and 'name="submissions_digest"' not in page, (
        "staff kinds not offered"
    )
    saved = client.post(
        "/notifications/preferences", data={"grade_released": "in_app", "handbook_due": "off"}
    )
    assert saved.status_code == 302
    chosen = operations.preferences_of(student.id)
    assert (chosen["grade_released"], chosen["handbook_due"], chosen["certificate_issued"]) == (
        "in_app",
        "off",
        "email",
    )
    bad = client.post("/notifications/preferences", data={"grade_released": "carrier-pigeon"})
    assert bad.status_code == 422 and "Choose email, in-app only, or off." in bad.get_data(as_text=True)


def test_a_forged_or_damaged_unsubscribe_link_changes_nothing(app, student, client):
    token = operations.unsubscribe_token(student.id, "grade_released")
    assert client.get(f"/notifications/unsubscribe/{token}").status_code == 200, "a page to confirm; no write"
    assert operations.preferences_of(student.id)["grade_released"] == "email"
    forged = client.post(f"/notifications/unsubscribe/{token[:-2]}xx", csrf=False)
    assert forged.status_code == 404 and "does not work" in forged.get_data(as_text=True)
    assert operations.preferences_of(student.id)["grade_released"] == "email"


def test_an_email_job_run_twice_sends_one_email(released, student, smtp_server):
    job = db.session.execute(sa.select(Job).where(Job.kind == "notifications.email")).scalars().first()
    payload = dict(job.payload)
    jobs.run_pending()
    from lms.notifications.sending import send_notification_email

    send_notification_email(payload)  # a second worker (or a retry) with the same job
    db.session.commit()
    assert len(smtp_server.inbox.to(student.email)) == 1


@pytest.mark.app_config(JOBS_RETRY_BASE_SECONDS=60)
def test_an_smtp_server_in_trouble_means_a_retry_later_and_one_email_in_the_end(
    released, student, smtp_server
):
    smtp_server.inbox.fail_with = 451
    jobs.run_pending()
    job = db.session.execute(sa.select(Job).where(Job.kind == "notifications.email")).scalars().first()
    assert (job.state, job.attempts) == ("queued", 1) and "451" in job.last_error
    smtp_server.inbox.fail_with = None
    clock.freeze(T0.replace(minute=5))
    jobs.run_pending()
    assert len(smtp_server.inbox.to(student.email)) == 1


def test_staff_hear_of_regrade_requests(app, released, student, instructor):
    from lms.assignments import operations as assignments

    assignments.request_regrade(
        student, released, "The SWOT criterion was misjudged, see page 3.", clock.now_utc()
    )
    kinds = [n.kind for n in operations.notifications_of(instructor.id)]
    assert kinds == ["regrade_requested"]


def test_account_emails_go_through_the_same_path_to_the_address_given_and_stay_out_of_the_list(
    app, student, smtp_server
):
    operations.set_preference(
        student.id, "grade_released", "off"
    )  # other choices do not matter to account emails
    operations.send_account_email(
        student.id,
        "Confirm your new email address",
        "Open the link to confirm it.",
        to="stella.new@example.org",
        link="/accounts/confirm/abc",
        dedupe_key="confirm-email:abc",
    )
    assert operations.send_account_email(student.id, "again", "again", dedupe_key="confirm-email:abc") is None
    db.session.rollback()
    assert jobs.run_pending() == 0, "rolled back with the change that asked for it"

    operations.send_account_email(
        student.id, "Confirm your new email address", "Open the link to confirm it.", to="stella.new@example.org",
        link="/accounts/confirm/abc",
    )  # fmt: skip
    db.session.commit()
    jobs.run_pending()
    [message] = smtp_server.inbox.to("stella.new@example.org")
    assert smtp_server.inbox.to(student.email) == []
    assert f"Open it: {BASE}/accounts/confirm/abc" in text_part(message) and "List-Unsubscribe" not in message
    assert operations.notifications_of(student.id) == [] and operations.unread_count(student.id) == 0

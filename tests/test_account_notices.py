"""Account emails leave by the notifications path (issue 19): written in the change's transaction, sent by the job
queue through a real SMTP server (tests/smtp.py) with working links, once; and the owner hears of a password
change, an email change and a sign-in from a new browser with exactly one security notice each."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from lms import clock, events, jobs
from lms.accounts import operations
from lms.accounts.models import User
from lms.extensions import db
from lms.jobs import Job
from lms.notifications import operations as notifications
from lms.notifications.models import Notification
from lms.notifications.sending import EMAIL_JOB
from tests.conftest import PASSWORD
from tests.smtp import html_part, text_part

BASE = "https://learn.example.org"
NEW = "stella.new@example.org"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    return {**app_config, **smtp_server.settings(), "BASE_URL": BASE, "MAIL_FROM": "lms@learn.example.org"}


def path_in(text: str, route: str) -> str:
    match = re.search(rf"{re.escape(BASE)}(/{route}/[^\s\"<]+)", text)
    assert match, text
    return match.group(1)


def subjects_to(smtp_server: Any, address: str) -> list[str]:
    jobs.run_pending()
    return [str(m["Subject"]) for m in smtp_server.inbox.to(address)]


def security_notices(user: User) -> list[str]:
    return [n.subject for n in notifications.notifications_of(user.id) if n.kind == "security"]


def test_the_registration_confirmation_arrives_by_smtp_with_a_link_that_works(client, smtp_server):
    form = {"full_name": "Grace Hopper", "email": "grace@example.org", "password": "compilers-and-cobol"}
    assert client.post("/register", data={**form, "confirm": form["password"]}).status_code == 302
    assert smtp_server.messages == [], "sent by the job queue, not inside the request"
    assert jobs.run_pending() == 1
    [message] = smtp_server.inbox.to("grace@example.org")
    assert message["Subject"] == "Confirm your email address"
    assert message["To"] == "Grace Hopper <grace@example.org>"
    text, html = text_part(message), html_part(message)
    assert text.startswith("Hello Grace Hopper,") and text.count("Hello") == 1
    path = path_in(text, "confirm-email")
    assert f'<a href="{BASE}{path}">' in html  # the HTML part's link is clickable, and the same
    assert "Security notices are always sent" not in text  # an account email, not a notice of the list
    user = db.session.execute(sa.select(User)).scalar_one()
    assert notifications.notifications_of(user.id) == []  # kept out of the in-app list
    kept = db.session.execute(sa.select(Notification)).scalar_one()
    assert kept.emailed_at is not None and kept.body == ""  # the link is not kept once it left
    assert client.post(path).status_code == 302
    db.session.refresh(user)
    assert user.email_verified


def test_an_account_email_whose_transaction_rolls_back_is_never_sent(app, student, smtp_server, monkeypatch):
    def fail() -> None:
        raise RuntimeError("the database went away at commit")

    monkeypatch.setattr(db.session, "commit", fail)
    with pytest.raises(RuntimeError):
        operations.send_password_reset(student.email)
    monkeypatch.undo()
    db.session.rollback()
    assert jobs.run_pending() == 0 and smtp_server.messages == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 0

    operations.send_password_reset(student.email)  # the same, committed: sent
    assert subjects_to(smtp_server, student.email) == ["Reset your password"]


def test_an_account_email_job_run_twice_sends_one_email(app, student, smtp_server):
    operations.send_password_reset(student.email)
    jobs.run_pending()
    notice = db.session.execute(sa.select(Notification)).scalar_one()
    jobs.enqueue(EMAIL_JOB, {"notification_id": notice.id})  # a second worker, a crash after the send...
    db.session.commit()
    assert jobs.run_pending() == 1
    assert len(smtp_server.inbox.to(student.email)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Job).where(Job.kind == EMAIL_JOB)) == 2


def test_a_notice_for_the_old_address_goes_there_even_when_its_job_runs_after_the_change(
    client, login, student, smtp_server
):
    clock.freeze(T0)
    old = student.email
    login(client, student)
    smtp_server.inbox.fail_with = 451  # the mail server is in trouble: both emails wait for a retry
    client.post("/account/email", data={"email": NEW, "current_password": PASSWORD})
    assert jobs.run_pending() == 2 and smtp_server.messages == []
    smtp_server.inbox.fail_with = None
    confirm = db.session.execute(sa.select(Notification).where(Notification.email_to == NEW)).scalar_one()
    assert client.post(path_in(confirm.body, "confirm-email-change")).status_code == 302  # the change is made
    db.session.refresh(student)
    assert student.email == NEW
    clock.freeze(T0 + timedelta(hours=1))
    jobs.run_pending()
    assert [str(m["Subject"]) for m in smtp_server.inbox.to(old)] == [
        "Your account's email address is being changed"
    ]
    assert [str(m["Subject"]) for m in smtp_server.inbox.to(NEW)] == ["Confirm your new email address"]


def test_a_password_change_gives_the_owner_one_security_notice(client, login, student, smtp_server):
    login(client, student)
    form = {
        "current_password": PASSWORD,
        "new_password": "a-new-long-password",
        "confirm": "a-new-long-password",
    }
    assert client.post("/account/password", data=form).status_code == 302
    assert subjects_to(smtp_server, student.email) == ["Your password was changed"]
    assert security_notices(student) == ["Your password was changed"]


def test_a_password_reset_gives_the_link_and_then_one_security_notice(client, student, smtp_server):
    client.post("/forgot-password", data={"email": student.email})
    assert subjects_to(smtp_server, student.email) == ["Reset your password"]
    [message] = smtp_server.inbox.to(student.email)
    form = {"password": "reset-to-something", "confirm": "reset-to-something"}
    assert client.post(path_in(text_part(message), "reset-password"), data=form).status_code == 302
    assert subjects_to(smtp_server, student.email) == ["Reset your password", "Your password was changed"]
    assert security_notices(student) == ["Your password was changed"]


def test_an_email_change_gives_the_owner_one_security_email_and_one_notice_in_the_list(
    client, login, student, smtp_server
):
    old = student.email
    login(client, student)
    client.post("/account/email", data={"email": NEW, "current_password": PASSWORD})
    jobs.run_pending()
    [confirm] = smtp_server.inbox.to(NEW)
    assert client.post(path_in(text_part(confirm), "confirm-email-change")).status_code == 302
    db.session.refresh(student)
    assert student.email == NEW
    assert subjects_to(smtp_server, old) == ["Your account's email address is being changed"]
    assert subjects_to(smtp_server, NEW) == ["Confirm your new email address"]  # no second notice by email
    assert security_notices(student) == ["The email address of your account was changed"]


def sign_in(client: Any, user: User, *, cookie: str | None = None) -> None:
    if cookie is not None:
        client.set_cookie("lms_known_device", cookie)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    client.post("/logout")


def test_a_sign_in_from_a_new_browser_tells_the_owner_once(app, student, smtp_server):
    first, second, third = app.test_client(), app.test_client(), app.test_client()
    heard: list[events.AccountChanged] = []
    with events.subscribed(events.AccountChanged, heard.append):
        sign_in(first, student)  # the account's first sign-in ever: no news to its owner
        assert heard == [] and subjects_to(smtp_server, student.email) == []
        sign_in(first, student)  # the same browser, known by its cookie
        assert heard == []
        sign_in(second, student)  # a browser it never signed in from
        assert [(e.user_id, e.what) for e in heard] == [(student.id, "new_device")]
        sign_in(second, student)  # known from now on
        sign_in(third, student, cookie="forged-or-expired")  # a cookie that is not ours is no known device
    assert [e.what for e in heard] == ["new_device", "new_device"]
    subject = "A new sign-in to your account from a new device"
    assert subjects_to(smtp_server, student.email) == [subject, subject]
    assert security_notices(student) == [subject, subject]


def test_a_failed_sign_in_from_a_new_browser_tells_nobody(app, client, student, smtp_server):
    sign_in(app.test_client(), student)
    heard: list[events.AccountChanged] = []
    with events.subscribed(events.AccountChanged, heard.append):
        client.post("/login", data={"email": student.email, "password": "not-the-password"})
    assert heard == [] and subjects_to(smtp_server, student.email) == []

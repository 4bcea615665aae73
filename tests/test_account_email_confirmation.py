"""Registration confirms the address before the account may enrol, and never reveals whether an address has an
account: the page says "check your inbox" both times, and the owner of a taken address hears that someone tried."""

from __future__ import annotations

import re
import unittest.mock

import pytest
import sqlalchemy as sa

from lms import clock
from lms.accounts import operations
from lms.accounts.cli import ensure_demo_accounts
from lms.accounts.models import User
from lms.courses import operations as courses
from lms.courses.models import Enrollment
from lms.errors import DomainError
from lms.extensions import db
from tests.conftest import PASSWORD
from tests.fixtures.courses.samples import make_track

FORM = {
    "full_name": "Grace Hopper",
    "email": "grace@example.org",
    "password": "compilers-and-cobol",
    "confirm": "compilers-and-cobol",
}


def register(client, **overrides):
    return client.post("/register", data={**FORM, **overrides})


def link_in(mail, route: str) -> str:
    """The path of the link to `route` in an email (links are absolute, under LMS_BASE_URL)."""
    match = re.search(rf"https?://[^/\s]+(/{route}/\S+)", mail.body)
    assert match, mail.body
    return match.group(1)


def test_registering_creates_an_unconfirmed_account_and_sends_a_link(client, account_mail):
    response = register(client, email=" Grace@Example.ORG ")
    assert response.status_code == 302 and response.location.endswith("/register/check-inbox")
    assert "Check your inbox" in client.get(response.location).get_data(as_text=True)
    user = db.session.execute(sa.select(User)).scalar_one()
    assert (user.email, user.email_verified_at) == ("grace@example.org", None)
    assert [(m.to, m.subject) for m in account_mail] == [("grace@example.org", "Confirm your email address")]
    assert client.get("/dashboard").status_code == 302  # not signed in by registering


def test_a_taken_address_gets_the_same_page_and_its_owner_an_email(client, student, account_mail):
    fresh = register(client, email="new-person@example.org")
    taken = register(client, email=student.email.upper(), full_name="Mallory Intruder")
    assert (taken.status_code, taken.location) == (fresh.status_code, fresh.location)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 2  # no second account
    notice = account_mail[-1]
    assert notice.to == student.email
    assert notice.subject == "Someone tried to create an account with your address"
    assert "/forgot-password" in notice.body and "Mallory" not in notice.body
    db.session.refresh(student)
    assert operations.authenticate(student.email, PASSWORD) is not None  # the account is as it was


def test_a_taken_address_with_a_weak_password_is_refused_as_a_free_one_would_be(
    client, student, account_mail
):
    response = register(client, email=student.email, password="short", confirm="short")
    assert response.status_code == 422 and account_mail == []


def test_the_confirmation_link_shows_a_button_and_confirms_once_pressed(client, account_mail):
    clock.freeze(clock.now_utc())
    register(client)
    path = link_in(account_mail[0], "confirm-email")
    page = client.get(path)
    assert page.status_code == 200 and "Confirm my email address" in page.get_data(as_text=True)
    user = db.session.execute(sa.select(User)).scalar_one()
    assert user.email_verified_at is None  # opening the link alone (a mail scanner does) changes nothing
    response = client.post(path)
    assert response.status_code == 302 and response.location.endswith("/login")
    db.session.refresh(user)
    assert user.email_verified_at == clock.now_utc()
    assert client.post(path).status_code == 302  # again: still confirmed, nothing else


def test_a_confirmation_link_altered_or_expired_is_refused(client, account_mail):
    register(client)
    path = link_in(account_mail[0], "confirm-email")
    altered = client.post(path[:-4] + "abcd")
    assert altered.status_code == 422 and "not valid" in altered.get_data(as_text=True)
    later = clock.now_utc().timestamp() + 4 * 86400

    with unittest.mock.patch("itsdangerous.timed.time.time", return_value=later):
        expired = client.post(path)
    assert expired.status_code == 422 and "expired" in expired.get_data(as_text=True)
    assert db.session.execute(sa.select(User)).scalar_one().email_verified_at is None


def test_an_unconfirmed_account_signs_in_but_may_not_enrol(client, account_mail):
    track = make_track("sample", modules=1, lessons_per_module=1)
    register(client)
    response = client.post("/login", data={"email": FORM["email"], "password": FORM["password"]})
    assert response.status_code == 302
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Confirm your email address" in dashboard and "Send the confirmation link again" in dashboard
    refused = client.post("/tracks/sample/enroll", follow_redirects=True).get_data(as_text=True)
    assert "Confirm your email address before you enrol" in refused
    assert "Send the confirmation link again" in refused
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 0

    client.post(link_in(account_mail[0], "confirm-email"))
    assert "Confirm your email address" not in client.get("/dashboard").get_data(as_text=True)
    client.post("/tracks/sample/enroll")
    user = db.session.execute(sa.select(User)).scalar_one()
    assert courses.find_enrollment(user.id, track.id) is not None


def test_the_enrol_operation_itself_refuses_an_unconfirmed_account(student):
    track = make_track("sample", modules=1, lessons_per_module=1)
    student.email_verified_at = None
    db.session.commit()
    with pytest.raises(DomainError, match="Confirm your email address"):
        courses.enroll(student, track)


@pytest.mark.app_config(RATELIMIT_ENABLED=True, CONFIRM_RESEND_LIMIT="2 per hour")
def test_resending_the_link_works_and_is_rate_limited(client, account_mail):
    register(client)
    client.post("/login", data={"email": FORM["email"], "password": FORM["password"]})
    for _ in range(2):
        response = client.post("/account/confirm-email/resend", data={"next": "/dashboard"})
        assert response.status_code == 302 and response.location.endswith("/dashboard")
    assert [m.subject for m in account_mail] == ["Confirm your email address"] * 3
    assert client.post("/account/confirm-email/resend").status_code == 429
    assert len(account_mail) == 3
    client.post(
        link_in(account_mail[-1], "confirm-email")
    )  # the newest link works (so does any other unexpired)
    assert db.session.execute(sa.select(User)).scalar_one().email_verified


@pytest.mark.app_config(RATELIMIT_ENABLED=True)
def test_a_visitor_pressing_resend_is_sent_to_sign_in(client, account_mail):
    response = client.post("/account/confirm-email/resend")
    assert response.status_code == 302 and "/login" in response.location and account_mail == []


def test_resending_to_a_confirmed_account_sends_nothing(client, login, student, account_mail):
    login(client, student)
    page = client.post("/account/confirm-email/resend", follow_redirects=True).get_data(as_text=True)
    assert "confirmed already" in page and account_mail == []


def test_the_resend_button_goes_back_only_within_the_site(client, account_mail):
    register(client)
    client.post("/login", data={"email": FORM["email"], "password": FORM["password"]})
    response = client.post("/account/confirm-email/resend", data={"next": "//evil.example"})
    assert response.location.endswith("/dashboard")


def test_a_password_reset_confirms_the_address_and_ends_a_squatters_sessions(app, client, account_mail):
    """Someone registers a victim's address first (pre-hijacking); the victim resets the password from the mail."""
    register(client, email="victim@example.org")
    client.post("/login", data={"email": "victim@example.org", "password": FORM["password"]})
    assert client.get("/account").status_code == 200
    victim = app.test_client()
    victim.post("/forgot-password", data={"email": "victim@example.org"})
    path = link_in(account_mail[-1], "reset-password")
    reset = victim.post(path, data={"password": "quiet-river-stones", "confirm": "quiet-river-stones"})
    assert reset.status_code == 302, reset.get_data(as_text=True)
    user = db.session.execute(sa.select(User)).scalar_one()
    assert user.email_verified
    assert client.get("/account").status_code == 302  # the squatter is signed out


def test_accounts_made_by_the_operator_are_confirmed(app, student):
    assert student.email_verified  # the tests' fixtures, like `lms create-user`, use register_user
    result = app.test_cli_runner().invoke(
        args=["lms", "create-user", "--email", "ops@example.org", "--name", "Op", "--password", PASSWORD]
    )
    assert result.exit_code == 0, result.output
    assert operations.find_user_by_email("ops@example.org").email_verified
    with app.test_request_context():
        ensure_demo_accounts()
    assert operations.find_user_by_email("student@example.org").email_verified

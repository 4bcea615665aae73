"""Accounts through the browser's eyes: register, sign in and out, profile, passwords, reset, admin users."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from lms import clock, jobs
from lms.accounts import operations
from lms.accounts.models import Role, User
from lms.audit import AuditEvent
from lms.extensions import db
from tests.conftest import PASSWORD
from tests.support import field_error


def register(client, **overrides):
    data = {
        "full_name": "Grace Hopper",
        "email": "grace@example.org",
        "password": "compilers-and-cobol",
        "confirm": "compilers-and-cobol",
        **overrides,
    }
    return client.post("/register", data=data)


def test_register_creates_an_unconfirmed_student_with_a_normalized_email(client):
    response = register(client, email="  Grace.Hopper@Example.ORG ")
    assert response.status_code == 302 and response.location.endswith("/register/check-inbox")
    user = db.session.execute(sa.select(User)).scalar_one()
    assert user.email == "grace.hopper@example.org"
    assert user.full_name == "Grace Hopper"
    assert user.role == "student"
    assert user.email_verified_at is None  # confirmed from the emailed link (test_account_email_confirmation)
    assert user.password_hash.startswith("pbkdf2:")
    assert "compilers-and-cobol" not in user.password_hash
    client.post("/login", data={"email": user.email, "password": "compilers-and-cobol"})
    page = client.get("/dashboard").get_data(as_text=True)
    assert "Welcome, Grace Hopper" in page


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"password": "short", "confirm": "short"}, "password", "at least 10 characters"),
        ({"password": "1234567890", "confirm": "1234567890"}, "password", "too easy to guess"),
        ({"password": "aaaaaaaaaaaa", "confirm": "aaaaaaaaaaaa"}, "password", "too easy to guess"),
        ({"email": "grace@", "password": "x" * 3}, "email", "Enter an email address like"),
        ({"email": "not an email"}, "email", "Enter an email address like"),
        ({"confirm": "something-else-here"}, "confirm", "The two passwords differ."),
        ({"full_name": "   "}, "full_name", "full name"),
    ],
)
def test_register_refuses_bad_input_with_a_message_beside_the_field(client, overrides, field, message):
    response = register(client, **overrides)
    assert response.status_code == 422
    error = field_error(response.get_data(as_text=True), field)
    assert error is not None and message in error
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_register_does_not_reveal_a_taken_email_whatever_its_case(client, student, account_mail):
    response = register(client, email=student.email.upper())
    assert response.status_code == 302 and response.location.endswith("/register/check-inbox")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1
    assert [m.to for m in account_mail] == [student.email]  # the owner hears that someone tried


def test_password_built_from_the_email_is_refused(client):
    response = register(
        client, email="tremendous@example.org", password="tremendous123", confirm="tremendous123"
    )
    assert "email address" in field_error(response.get_data(as_text=True), "password")


def test_sign_in_and_out(client, student):
    response = client.post("/login", data={"email": student.email.upper(), "password": PASSWORD})
    assert response.status_code == 302 and response.location.endswith("/dashboard")
    assert "Stella Student" in client.get("/dashboard").get_data(as_text=True)
    client.post("/logout")
    assert client.get("/dashboard").status_code == 302


def test_sign_in_with_a_wrong_password_says_so_without_telling_which_part(client, student):
    for email in (student.email, "nobody@example.org"):
        response = client.post("/login", data={"email": email, "password": "wrong-password-here"})
        assert response.status_code == 422
        assert (
            field_error(response.get_data(as_text=True), "password")
            == "The email or password is not correct."
        )


def test_sign_in_follows_next_only_within_the_site(client, student):
    ok = client.post("/login", data={"email": student.email, "password": PASSWORD, "next": "/account"})
    assert ok.location.endswith("/account")
    client.post("/logout")
    evil = client.post(
        "/login", data={"email": student.email, "password": PASSWORD, "next": "//evil.example/x"}
    )
    assert evil.location.endswith("/dashboard")


def test_protected_page_sends_visitors_to_sign_in_and_back(client, student):
    response = client.get("/account")
    assert response.status_code == 302 and "/login?next=" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert 'value="/account"' in page


def test_remember_me_sets_a_lasting_httponly_cookie(client, student):
    response = client.post("/login", data={"email": student.email, "password": PASSWORD, "remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    remember = [c for c in cookies if c.startswith("remember_token=")]
    assert remember and "HttpOnly" in remember[0] and "Expires=" in remember[0]
    session_cookie = next(c for c in cookies if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie


def test_without_remember_me_no_lasting_cookie(client, student):
    response = client.post("/login", data={"email": student.email, "password": PASSWORD})
    assert not [c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token=")]


def test_edit_profile_changes_the_name(client, login, student):
    login(client, student)
    response = client.post("/account", data={"full_name": "Stella  Q.  Student"})
    assert response.status_code == 302
    db.session.refresh(student)
    assert student.full_name == "Stella Q. Student"
    event = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "user.profile_changed")
    ).scalar_one()
    assert event.actor_id == student.id and event.data["full_name"] == ["Stella Student", "Stella Q. Student"]


def test_edit_profile_refuses_an_email_another_account_uses(client, login, student, instructor):
    login(client, student)
    response = client.post("/account/email", data={"email": instructor.email, "current_password": PASSWORD})
    assert response.status_code == 422
    assert "Another account" in field_error(response.get_data(as_text=True), "email")
    db.session.refresh(student)
    assert student.email != instructor.email and student.pending_email is None


def test_change_password_signs_out_other_sessions(app, client, login, student):
    other_device = app.test_client()
    login(other_device, student)
    login(client, student)
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a-brand-new-secret",
            "confirm": "a-brand-new-secret",
        },
    )
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # this session carries on
    assert other_device.get("/account").status_code == 302  # the other one is signed out
    assert operations.authenticate(student.email, "a-brand-new-secret") is not None
    assert operations.authenticate(student.email, PASSWORD) is None


def test_change_password_needs_the_current_one(client, login, student):
    login(client, student)
    response = client.post(
        "/account/password",
        data={
            "current_password": "not-my-password",
            "new_password": "a-brand-new-secret",
            "confirm": "a-brand-new-secret",
        },
    )
    assert response.status_code == 422
    assert "not correct" in field_error(response.get_data(as_text=True), "current_password")
    assert operations.authenticate(student.email, PASSWORD) is not None


def _reset_link_from(caplog) -> str:
    text = "\n".join(r.getMessage() for r in caplog.records)
    match = re.search(r"http://[^/\s]+(/reset-password/\S+)", text)  # under LMS_BASE_URL, not the Host header
    assert match, text
    return match.group(1)


def test_forgot_password_logs_a_link_in_development_that_works_once(client, student, caplog):
    caplog.set_level(logging.INFO)
    response = client.post("/forgot-password", data={"email": student.email})
    jobs.run_pending()  # the email job (in development, the app's own thread runs it) logs it
    assert response.status_code == 302
    path = _reset_link_from(caplog)
    page = client.post(path, data={"password": "reset-to-something", "confirm": "reset-to-something"})
    assert page.status_code == 302
    assert operations.authenticate(student.email, "reset-to-something") is not None
    again = client.post(path, data={"password": "and-once-more-again", "confirm": "and-once-more-again"})
    assert again.status_code == 422 and "already been used" in again.get_data(as_text=True)


def test_reset_link_expires(client, student, caplog):
    caplog.set_level(logging.INFO)
    client.post("/forgot-password", data={"email": student.email})
    jobs.run_pending()  # the email job (in development, the app's own thread runs it) logs it
    path = _reset_link_from(caplog)
    token = path.rsplit("/", 1)[-1]
    with pytest.raises(Exception, match="expired"):
        import time
        from unittest import mock

        with mock.patch("itsdangerous.timed.time.time", return_value=time.time() + 7200):
            operations.reset_password_with_token(token, "too-late-for-this")
    tampered = client.post(
        path[:-3] + "xyz", data={"password": "reset-to-something", "confirm": "reset-to-something"}
    )
    assert "not valid" in tampered.get_data(as_text=True)


def test_a_reset_link_points_to_the_configured_address_whatever_the_host_header(app, student, account_mail):
    with app.test_request_context("/forgot-password", method="POST", base_url="http://evil.example"):
        operations.send_password_reset(student.email)
    assert [m.to for m in account_mail] == [student.email]
    assert "evil.example" not in account_mail[0].body
    assert "http://127.0.0.1:5000/reset-password/" in account_mail[0].body  # LMS_BASE_URL (the default here)


def test_forgot_password_does_not_reveal_whether_an_account_exists(client, student, caplog):
    caplog.set_level(logging.INFO)
    known = client.post("/forgot-password", data={"email": student.email}, follow_redirects=True)
    unknown = client.post("/forgot-password", data={"email": "nobody@example.org"}, follow_redirects=True)
    message = "If an account uses that address"
    assert message in known.get_data(as_text=True) and message in unknown.get_data(as_text=True)
    assert "nobody@example.org" not in caplog.text


def test_admin_lists_searches_and_pages_users(client, login, admin, make_user):
    for n in range(30):
        make_user(Role.STUDENT, email=f"learner{n:02d}@example.org", full_name=f"Learner {n:02d}")
    login(client, admin)
    first = client.get("/admin/users").get_data(as_text=True)
    assert "Page 1 of 2" in first and "31 users" in first
    found = client.get("/admin/users?q=LEARNER07").get_data(as_text=True)
    assert "learner07@example.org" in found and "learner08@example.org" not in found
    none = client.get("/admin/users?q=%25").get_data(as_text=True)
    assert "No users match." in none  # a wildcard typed in the box is matched literally


def test_admin_changes_a_role_and_it_is_recorded(client, login, admin, student):
    login(client, admin)
    response = client.post(f"/admin/users/{student.id}/role", data={"role": "instructor"})
    assert response.status_code == 302
    db.session.refresh(student)
    assert student.role == "instructor"
    event = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "user.role_changed")
    ).scalar_one()
    assert (event.actor_id, event.data) == (admin.id, {"old": "student", "new": "instructor"})


def test_the_last_admin_cannot_be_demoted(client, login, admin):
    login(client, admin)
    response = client.post(f"/admin/users/{admin.id}/role", data={"role": "student"}, follow_redirects=True)
    assert "last admin" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.role == "admin"


def test_unknown_role_is_refused(client, login, admin, student):
    login(client, admin)
    response = client.post(
        f"/admin/users/{student.id}/role", data={"role": "superuser"}, follow_redirects=True
    )
    assert "Choose one of the listed roles" in response.get_data(as_text=True)
    db.session.refresh(student)
    assert student.role == "student"


def test_times_are_aware_utc(student):
    db.session.expire_all()
    user = db.session.get(User, student.id)
    assert user.created_at.utcoffset().total_seconds() == 0
    assert abs((clock.now_utc() - user.created_at).total_seconds()) < 60


def test_the_database_refuses_an_unknown_role_or_unnormalized_email(app):
    with pytest.raises(sa.exc.IntegrityError):
        db.session.add(User(email="x@example.org", full_name="X", password_hash="h", role="root"))
        db.session.flush()
    db.session.rollback()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.add(User(email="Upper@Example.org", full_name="X", password_hash="h"))
        db.session.flush()
    db.session.rollback()

"""Changing the email needs the current password, takes effect only when the new address confirms it, and tells
the old address, whose link undoes the change and signs every session out."""

from __future__ import annotations

import unittest.mock
from datetime import timedelta

import pytest

from lms import clock, events
from lms.accounts import operations
from lms.audit import AuditEvent
from lms.errors import DomainError
from lms.extensions import db
from tests.conftest import PASSWORD
from tests.support import field_error
from tests.test_account_email_confirmation import link_in

NEW = "stella.new@example.org"


def ask(client, email=NEW, password=PASSWORD):
    return client.post("/account/email", data={"email": email, "current_password": password})


@pytest.fixture
def signed_in(client, login, student):
    login(client, student)
    return client


def test_the_old_form_no_longer_changes_the_email(signed_in, student, account_mail):
    """POST /account used to change the email with no password at all."""
    signed_in.post("/account", data={"full_name": "Stella Student", "email": "mallory@example.org"})
    db.session.refresh(student)
    assert student.email != "mallory@example.org" and student.pending_email is None and account_mail == []


@pytest.mark.parametrize(
    ("password", "message"), [("", "Enter your current password"), ("wrong-one!", "not correct")]
)
def test_changing_the_email_needs_the_current_password(signed_in, student, account_mail, password, message):
    response = ask(signed_in, password=password)
    assert response.status_code == 422
    assert message in field_error(response.get_data(as_text=True), "current_password")
    db.session.refresh(student)
    assert student.pending_email is None and account_mail == []


def test_a_change_waits_for_the_new_address_and_tells_the_old_one(signed_in, student, account_mail):
    old = student.email
    response = ask(signed_in, email="  Stella.New@Example.org")
    assert response.status_code == 302
    db.session.refresh(student)
    assert (student.email, student.pending_email) == (old, NEW)  # not yet
    assert [(m.to, m.subject) for m in account_mail] == [
        (NEW, "Confirm your new email address"),
        (old, "Your account's email address is being changed"),
    ]
    assert NEW in account_mail[1].body and "/undo-email-change/" in account_mail[1].body
    assert f"Waiting for <strong>{NEW}</strong>" in signed_in.get("/account").get_data(as_text=True)


def test_the_new_address_confirms_the_change_once(client, signed_in, student, account_mail):
    clock.freeze(clock.now_utc())
    heard: list[events.AccountChanged] = []
    ask(signed_in)
    path = link_in(account_mail[0], "confirm-email-change")
    assert "Use this address" in client.get(path).get_data(as_text=True)  # opening it changes nothing yet
    db.session.refresh(student)
    assert student.pending_email == NEW
    with events.subscribed(events.AccountChanged, heard.append):
        assert client.post(path).status_code == 302
    db.session.refresh(student)
    assert (student.email, student.pending_email) == (NEW, None)
    assert student.email_verified_at == clock.now_utc()
    assert [e.what for e in heard] == ["email"]
    again = client.post(path)
    assert again.status_code == 422 and "used already" in again.get_data(as_text=True)
    assert operations.authenticate(NEW, PASSWORD) is not None


def test_a_newer_request_replaces_the_older_link(client, signed_in, student, account_mail):
    clock.freeze(clock.now_utc())
    ask(signed_in, email="first@example.org")
    first = link_in(account_mail[0], "confirm-email-change")
    clock.freeze(clock.now_utc() + timedelta(seconds=5))
    ask(signed_in, email="second@example.org")
    assert client.post(first).status_code == 422
    db.session.refresh(student)
    assert student.email != "first@example.org"
    assert client.post(link_in(account_mail[2], "confirm-email-change")).status_code == 302
    db.session.refresh(student)
    assert student.email == "second@example.org"


def test_an_address_taken_meanwhile_is_refused_at_confirmation(
    client, signed_in, student, make_user, account_mail
):
    ask(signed_in)
    make_user(email=NEW)
    response = client.post(link_in(account_mail[0], "confirm-email-change"))
    assert response.status_code == 422 and "Another account" in response.get_data(as_text=True)
    db.session.refresh(student)
    assert student.email != NEW


def test_an_address_another_account_uses_is_refused(signed_in, student, instructor, account_mail):
    response = ask(signed_in, email=instructor.email)
    assert response.status_code == 422
    assert "Another account" in field_error(response.get_data(as_text=True), "email")
    assert account_mail == []


def test_the_same_address_is_no_change(signed_in, student, account_mail):
    response = ask(signed_in, email=student.email.upper())
    assert response.status_code == 422 and "already your account" in response.get_data(as_text=True)


def test_undo_from_the_old_address_restores_it_and_signs_everyone_out(
    app, client, signed_in, student, account_mail
):
    """A thief who knows the password changes the email (and confirms it from their own mailbox); the owner
    undoes it from the notice, which ends every session and leads to choosing a new password."""
    old = student.email
    ask(signed_in, email="thief@example.org")
    signed_in.post(link_in(account_mail[0], "confirm-email-change"))
    db.session.refresh(student)
    assert student.email == "thief@example.org"

    owner = app.test_client()
    undo = link_in(account_mail[1], "undo-email-change")
    assert "Undo the change" in owner.get(undo).get_data(as_text=True)
    response = owner.post(undo)
    assert response.status_code == 302 and "/reset-password/" in response.location
    db.session.refresh(student)
    assert (student.email, student.pending_email) == (old, None)
    assert signed_in.get("/account").status_code == 302  # the thief's session is over
    chosen = owner.post(response.location, data={"password": "my-own-again-1", "confirm": "my-own-again-1"})
    assert chosen.status_code == 302
    assert operations.authenticate(old, "my-own-again-1") is not None
    again = owner.post(undo)
    assert again.status_code == 422 and "undone already" in again.get_data(as_text=True)
    actions = db.session.scalars(
        db.select(AuditEvent.action).where(AuditEvent.subject_id == str(student.id))
    ).all()
    assert "user.email_change_undone" in actions


def test_undo_survives_a_second_change_by_the_thief(client, signed_in, student, account_mail):
    clock.freeze(clock.now_utc())
    old = student.email
    ask(signed_in, email="thief@example.org")
    signed_in.post(link_in(account_mail[0], "confirm-email-change"))
    clock.freeze(clock.now_utc() + timedelta(minutes=1))
    ask(signed_in, email="thief2@example.org")  # its notice goes to the thief's first address
    assert client.post(link_in(account_mail[1], "undo-email-change")).status_code == 302
    db.session.refresh(student)
    assert (student.email, student.pending_email) == (old, None)


def test_undo_cancels_a_change_still_waiting(client, signed_in, student, account_mail):
    ask(signed_in)
    assert client.post(link_in(account_mail[1], "undo-email-change")).status_code == 302
    db.session.refresh(student)
    assert student.pending_email is None
    assert (
        client.post(link_in(account_mail[0], "confirm-email-change")).status_code == 422
    )  # the new one is dead too


def test_an_old_undo_link_cannot_revert_a_later_honest_change(
    client, signed_in, login, student, account_mail
):
    clock.freeze(clock.now_utc())
    ask(signed_in, email="first@example.org")
    first_undo = link_in(account_mail[1], "undo-email-change")
    client.post(first_undo)  # undone: sessions end
    clock.freeze(clock.now_utc() + timedelta(minutes=1))
    db.session.refresh(student)
    login(client, student)
    ask(client, email="second@example.org")
    client.post(link_in(account_mail[-2], "confirm-email-change"))
    response = client.post(first_undo)
    assert response.status_code == 422
    db.session.refresh(student)
    assert student.email == "second@example.org"


def test_undo_links_expire_after_the_configured_days(signed_in, student, account_mail):
    ask(signed_in)
    token = link_in(account_mail[1], "undo-email-change").rsplit("/", 1)[-1]

    later = clock.now_utc().timestamp() + 8 * 86400
    with (
        unittest.mock.patch("itsdangerous.timed.time.time", return_value=later),
        pytest.raises(DomainError, match="expired"),
    ):
        operations.undo_email_change(token)


def test_links_of_one_kind_do_not_work_as_another(client, signed_in, account_mail):
    ask(signed_in)
    token = link_in(account_mail[0], "confirm-email-change").rsplit("/", 1)[-1]
    for route in ("confirm-email", "undo-email-change"):
        assert client.post(f"/{route}/{token}").status_code == 422

"""Admin verbs on other people's accounts (lms.accounts.administration): invite, deactivate, reactivate, reset."""

from __future__ import annotations

import time
import unittest.mock

import pytest
import sqlalchemy as sa

from lms.accounts import operations
from lms.accounts.models import Role, User, UserSession
from lms.audit import AuditEvent
from lms.errors import DomainError
from lms.extensions import db
from tests.conftest import PASSWORD
from tests.test_account_email_confirmation import link_in

NEW_PASSWORD = "a-brand-new-passphrase"


def later(days: int):
    """The signed links' own clock (itsdangerous reads time.time()), `days` from now."""
    return unittest.mock.patch("itsdangerous.timed.time.time", return_value=time.time() + days * 86400)


def audit_actions(user_id: int) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.subject_id == str(user_id)).order_by(AuditEvent.id)
        )
    )


def test_an_invited_person_chooses_a_password_from_the_email_and_signs_in(client, admin, account_mail):
    user = operations.invite_user(admin, " Ada@Example.ORG ", "  Ada   Lovelace ", Role.INSTRUCTOR)
    db.session.commit()
    assert (user.email, user.full_name, user.role) == ("ada@example.org", "Ada Lovelace", "instructor")
    assert operations.authenticate("ada@example.org", PASSWORD) is None  # nobody knows its password
    [mail] = account_mail
    assert mail.to == "ada@example.org" and "invited" in mail.subject
    assert admin.full_name in mail.body and "7 days" in mail.body
    path = link_in(mail, "reset-password")
    page = client.get(path)
    assert page.status_code == 200
    done = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302, done.get_data(as_text=True)
    assert operations.authenticate("ada@example.org", NEW_PASSWORD) is not None
    assert db.session.get(User, user.id).email_verified  # the link came to that address
    assert "user.invited" in audit_actions(user.id)
    again = client.post(
        path, data={"password": "yet-another-passphrase", "confirm": "yet-another-passphrase"}
    )
    assert "already been used" in again.get_data(as_text=True)  # single use


def test_an_invitation_link_lasts_days_where_a_reset_link_lasts_minutes(admin, account_mail):
    user = operations.invite_user(admin, "grace@example.org", "Grace Hopper")
    db.session.commit()
    invitation = link_in(account_mail[0], "reset-password").rsplit("/", 1)[-1]
    reset = operations.make_password_reset_token(user)
    with later(days=2):
        with pytest.raises(DomainError, match="expired"):
            operations.reset_password_with_token(reset, NEW_PASSWORD)
        db.session.rollback()
        operations.reset_password_with_token(invitation, NEW_PASSWORD)
    assert operations.authenticate(user.email, NEW_PASSWORD) is not None
    user2 = operations.invite_user(admin, "joan@example.org", "Joan Clarke")
    db.session.commit()
    [joans] = [mail for mail in account_mail if mail.to == "joan@example.org"]
    late = link_in(joans, "reset-password").rsplit("/", 1)[-1]
    with later(days=8), pytest.raises(DomainError, match="expired"):
        operations.reset_password_with_token(late, NEW_PASSWORD)
    db.session.rollback()
    assert operations.authenticate(user2.email, NEW_PASSWORD) is None


def test_inviting_a_taken_address_is_refused_and_writes_nothing(admin, student, account_mail):
    with pytest.raises(DomainError, match="already exists"):
        operations.invite_user(admin, student.email.upper(), "Someone Else")
    with pytest.raises(DomainError, match="valid email"):
        operations.invite_user(admin, "not-an-address", "Someone Else")
    db.session.rollback()
    assert len(account_mail) == 0


def test_an_invitation_rolled_back_sends_nothing(admin, account_mail):
    operations.invite_user(admin, "rolled@example.org", "Rolled Back")
    db.session.rollback()
    assert operations.find_user_by_email("rolled@example.org") is None
    assert len(account_mail) == 0


def test_deactivating_signs_out_everywhere_and_refuses_sign_in_until_reactivated(
    app, client, login, admin, student
):
    login(client, student)
    assert client.get("/dashboard").status_code == 200
    assert operations.deactivate_user(admin, student) is True
    db.session.commit()
    assert client.get("/dashboard").status_code == 302  # the live session ended at once
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(
                UserSession.user_id == student.id, UserSession.revoked_at.is_(None)
            )
        )
        == 0
    )
    assert operations.authenticate(student.email, PASSWORD) is None
    assert operations.deactivate_user(admin, student) is False  # already inactive: nothing more
    assert operations.reactivate_user(admin, student) is True
    db.session.commit()
    assert operations.authenticate(student.email, PASSWORD) is not None
    assert operations.reactivate_user(admin, student) is False
    assert audit_actions(student.id)[-2:] == ["user.deactivated", "user.reactivated"]


def test_an_admin_cannot_deactivate_themselves_or_the_last_admin(admin, make_user):
    with pytest.raises(DomainError, match="your own"):
        operations.deactivate_user(admin, admin)
    with pytest.raises(DomainError, match="last active admin"):
        operations.deactivate_user(None, admin)
    other = make_user(Role.ADMIN, full_name="Second Admin")
    assert operations.deactivate_user(other, admin) is True
    db.session.commit()
    with pytest.raises(DomainError, match="last active admin"):
        operations.deactivate_user(None, other)


def test_an_admin_sends_a_reset_link_to_an_active_account_only(admin, student, account_mail):
    operations.send_reset_for(admin, student)
    db.session.commit()
    [mail] = account_mail
    assert mail.to == student.email and "/reset-password/" in mail.body
    assert "user.password_reset_sent" in audit_actions(student.id)
    operations.deactivate_user(admin, student)
    db.session.commit()
    with pytest.raises(DomainError, match="deactivated"):
        operations.send_reset_for(admin, student)

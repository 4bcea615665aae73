"""The admin's user pages (lms/accounts/admin_views.py): invite, deactivate and reactivate after confirming, send
a reset link, filter the list; each change audited, the emails read from the real SMTP server."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms.accounts import directory
from lms.accounts import operations as accounts
from lms.accounts.models import Role, User
from lms.audit import AuditEvent
from lms.extensions import db
from tests.test_account_email_confirmation import link_in


def audited(action: str, subject: User) -> AuditEvent:
    return db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == action, AuditEvent.subject_id == str(subject.id))
    )


def test_an_admin_invites_a_user_from_the_form(client, login, admin, account_mail):
    login(client, admin)
    assert "Invite a user" in client.get("/admin/users/new").get_data(as_text=True)
    response = client.post(
        "/admin/users/new",
        data={"email": "Ada@Example.org", "full_name": "Ada Lovelace", "role": "instructor"},
        follow_redirects=True,
    )
    assert response.status_code == 200 and "Ada Lovelace is invited" in response.get_data(as_text=True)
    ada = accounts.find_user_by_email("ada@example.org")
    assert ada.role == "instructor" and audited("user.invited", ada).actor_id == admin.id
    [mail] = account_mail
    assert mail.to == "ada@example.org" and link_in(mail, "reset-password")
    taken = client.post(
        "/admin/users/new", data={"email": "ada@example.org", "full_name": "A", "role": "student"}
    )
    assert taken.status_code == 422 and "already exists" in taken.get_data(as_text=True)
    bad_role = client.post(
        "/admin/users/new", data={"email": "b@example.org", "full_name": "B", "role": "root"}
    )
    assert bad_role.status_code == 422 and accounts.find_user_by_email("b@example.org") is None
    assert len(account_mail) == 1


def test_deactivating_asks_first_then_ends_every_session(app, client, login, admin, student):
    login(client, admin)
    learner = app.test_client()
    login(learner, student)
    assert learner.get("/dashboard").status_code == 200
    confirm = client.get(f"/admin/users/{student.id}/deactivate")
    assert confirm.status_code == 200 and f"Deactivate {student.full_name}?" in confirm.get_data(as_text=True)
    db.session.refresh(student)
    assert student.active  # the confirmation page changes nothing
    done = client.post(f"/admin/users/{student.id}/deactivate?q=stella", follow_redirects=False)
    assert done.status_code == 302 and done.headers["Location"].endswith("/admin/users?q=stella")
    db.session.refresh(student)
    assert not student.active and audited("user.deactivated", student).actor_id == admin.id
    assert learner.get("/dashboard").status_code == 302  # signed out at once
    listed = client.get("/admin/users?status=inactive").get_data(as_text=True)
    assert student.email in listed and "Reactivate" in listed and admin.email not in listed
    back = client.post(f"/admin/users/{student.id}/reactivate", follow_redirects=True)
    assert f"{student.full_name} can sign in again" in back.get_data(as_text=True)
    db.session.refresh(student)
    assert student.active and audited("user.reactivated", student).actor_id == admin.id
    again = client.post(f"/admin/users/{student.id}/reactivate", follow_redirects=True)
    assert "was active already" in again.get_data(as_text=True)


def test_an_admin_cannot_deactivate_themselves(client, login, admin):
    login(client, admin)
    response = client.post(f"/admin/users/{admin.id}/deactivate")
    assert response.status_code == 422 and "your own account" in response.get_data(as_text=True)
    db.session.refresh(admin)
    assert admin.active


def test_an_admin_sends_a_reset_link(client, login, admin, student, account_mail):
    login(client, admin)
    response = client.post(f"/admin/users/{student.id}/reset-password", follow_redirects=True)
    assert f"We emailed {student.email}" in response.get_data(as_text=True)
    [mail] = account_mail
    assert mail.to == student.email and link_in(mail, "reset-password")
    assert audited("user.password_reset_sent", student).actor_id == admin.id
    assert client.post(f"/admin/users/{student.id}/reset-password", csrf=False).status_code == 400
    assert len(account_mail) == 1


def test_a_role_change_from_the_list_is_audited(client, login, admin, student):
    login(client, admin)
    client.post(f"/admin/users/{student.id}/role", data={"role": "instructor"})
    assert audited("user.role_changed", student).data == {"old": "student", "new": "instructor"}


def test_the_list_filters_by_role_and_status_and_stops_counting_at_the_cap(
    client, login, admin, make_user, monkeypatch
):
    for n in range(7):
        make_user(Role.STUDENT, email=f"learner{n}@example.org")
    teacher = make_user(Role.INSTRUCTOR, email="teacher@example.org")
    login(client, admin)
    instructors = client.get("/admin/users?role=instructor").get_data(as_text=True)
    assert teacher.email in instructors and "learner1@" not in instructors and "1 user." in instructors
    monkeypatch.setattr(directory, "COUNT_CAP", 5)
    monkeypatch.setattr(directory, "PER_PAGE", 3)
    first = client.get("/admin/users?role=student").get_data(as_text=True)
    assert "More than 5 users" in first and "Page 1<" in first and 'rel="next"' in first
    page = directory.list_users(role="student", page=3)
    assert page.total is None and [u.email for u in page.items] == ["learner0@example.org"]
    assert not page.has_next


@pytest.mark.parametrize("path", ["/admin/users/999999/deactivate", "/admin/users/999999/reactivate"])
def test_an_unknown_user_is_404(client, login, admin, path):
    login(client, admin)
    assert client.get(path).status_code == 404

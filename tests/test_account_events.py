"""Events other features hear: an account's password, email or role changing (AccountChanged), and a student
enrolling in a track or coming back to it (Enrolled); never for a change refused or not made."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from lms import clock, events, jobs
from lms.accounts import operations as accounts
from lms.accounts import verification
from lms.accounts.models import Role, User
from lms.courses import operations as courses
from lms.courses.models import Track
from lms.errors import DomainError
from lms.extensions import db
from tests.conftest import PASSWORD
from tests.fixtures.courses.samples import make_track

T0 = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)


@pytest.fixture
def account_changes(app) -> Iterator[list[events.AccountChanged]]:
    """The AccountChanged events emitted during the test, in order, at a frozen clock (T0)."""
    clock.freeze(T0)
    heard: list[events.AccountChanged] = []
    with events.subscribed(events.AccountChanged, heard.append):
        yield heard


@pytest.fixture
def enrolments(app) -> Iterator[list[events.Enrolled]]:
    heard: list[events.Enrolled] = []
    with events.subscribed(events.Enrolled, heard.append):
        yield heard


@pytest.fixture
def track() -> Track:
    return make_track("sample", modules=1, lessons_per_module=1)


def changed(user: User, what: str, actor: User | None) -> events.AccountChanged:
    return events.AccountChanged(user_id=user.id, actor_id=actor.id if actor else None, what=what, at=T0)


# --- AccountChanged -----------------------------------------------------------------------------------------------


def test_changing_ones_password_tells_listeners_once(client, login, student, account_changes):
    login(client, student)
    form = {
        "current_password": PASSWORD,
        "new_password": "a-brand-new-secret",
        "confirm": "a-brand-new-secret",
    }
    assert client.post("/account/password", data=form).status_code == 302
    assert account_changes == [changed(student, "password", student)]


def test_a_refused_password_change_tells_nobody(client, login, student, account_changes):
    login(client, student)
    wrong_current = {"current_password": "not-my-password", "new_password": "a-brand-new-secret"}
    assert (
        client.post("/account/password", data={**wrong_current, "confirm": "a-brand-new-secret"}).status_code
        == 422
    )
    with pytest.raises(DomainError):
        accounts.change_password(student, PASSWORD, "short")  # too weak
    assert account_changes == []


def test_a_password_reset_through_the_emailed_link_tells_listeners(client, student, account_changes, caplog):
    caplog.set_level(logging.INFO)
    client.post("/forgot-password", data={"email": student.email})
    jobs.run_pending()  # the email job (in development, the app's own thread runs it) logs it
    link = re.search(r"http://[^/\s]+(/reset-password/\S+)", caplog.text)
    assert link
    path = link.group(1)
    form = {"password": "reset-to-something", "confirm": "reset-to-something"}
    assert client.post(path, data=form).status_code == 302
    assert client.post(path, data=form).status_code == 422  # used already: nothing changes
    assert account_changes == [changed(student, "password", student)]


def test_a_new_email_tells_listeners_once_confirmed_and_a_new_name_alone_does_not(
    client, login, student, account_changes, account_mail
):
    login(client, student)
    client.post("/account", data={"full_name": "Stella Renamed"})
    assert account_changes == []
    form = {"email": "  Stella.New@Example.org", "current_password": PASSWORD}
    assert client.post("/account/email", data=form).status_code == 302
    assert account_changes == []  # asked for, not made yet
    link = re.search(r"http://\S+(/confirm-email-change/\S+)", account_mail[0].body)
    assert link
    client.post(link.group(1))
    assert account_changes == [changed(student, "email", student)]
    client.post(link.group(1))  # the same link again changes nothing
    assert len(account_changes) == 1


def test_an_email_another_account_uses_tells_nobody(client, login, student, instructor, account_changes):
    login(client, student)
    form = {"email": instructor.email, "current_password": PASSWORD}
    assert client.post("/account/email", data=form).status_code == 422
    assert account_changes == []


def test_a_role_change_tells_listeners_who_made_it(client, login, admin, student, account_changes):
    login(client, admin)
    assert client.post(f"/admin/users/{student.id}/role", data={"role": "instructor"}).status_code == 302
    client.post(f"/admin/users/{student.id}/role", data={"role": "instructor"})  # already: nothing changes
    client.post(f"/admin/users/{admin.id}/role", data={"role": "student"})  # the last admin: refused
    assert account_changes == [changed(student, "role", admin)]


def test_a_role_changed_from_the_command_line_has_no_actor(app, student, account_changes):
    result = app.test_cli_runner().invoke(
        args=[
            "lms",
            "create-user",
            "--email",
            student.email,
            "--name",
            "x",
            "--role",
            "admin",
            "--password",
            "x",
        ]
    )
    assert result.exit_code == 0, result.output
    assert account_changes == [changed(student, "role", None)]


def test_a_listener_in_the_transaction_reads_the_change_and_commits_or_rolls_back_with_it(
    student, make_user, account_changes
):
    seen: list[str] = []

    def read_stored_email(event: events.AccountChanged) -> None:
        seen.append(db.session.scalar(sa.select(User.email).where(User.id == event.user_id)))

    def refuse(event: events.AccountChanged) -> None:
        raise RuntimeError("the listener refuses")

    accounts.request_email_change(student, "stella.flushed@example.org", PASSWORD)
    with events.subscribed(events.AccountChanged, read_stored_email):
        accounts.confirm_email_change(verification.change_token(student))
    assert seen == ["stella.flushed@example.org"]  # flushed before the listeners run

    other = make_user()
    with events.subscribed(events.AccountChanged, refuse), pytest.raises(RuntimeError):
        accounts.set_role(None, other, Role.INSTRUCTOR)
    db.session.rollback()
    assert db.session.get(User, other.id).role == "student"  # the change went with the listener's refusal


def test_listeners_after_the_commit_hear_of_the_change_only_once_it_is_committed(student):
    heard: list[str] = []
    committed: list[str] = []

    def after_commit(event: events.AccountChanged) -> None:
        heard.append(event.what)

    def in_transaction(event: events.AccountChanged) -> None:
        committed.append(f"{event.what} before commit: {heard}")

    with (
        events.subscribed(events.AccountChanged, after_commit, events.Phase.AFTER_COMMIT),
        events.subscribed(events.AccountChanged, in_transaction),
    ):
        accounts.set_role(None, student, Role.INSTRUCTOR)
    assert committed == ["role before commit: []"] and heard == ["role"]


# --- Enrolled -----------------------------------------------------------------------------------------------------


def test_enrolling_and_coming_back_tell_listeners_each_time(client, login, student, track, enrolments):
    login(client, student)
    client.post("/tracks/sample/enroll")
    client.post("/tracks/sample/enroll")  # already enrolled: refused, nothing new
    client.post("/tracks/sample/leave")
    assert enrolments == [events.Enrolled(user_id=student.id, track_id=track.id)]
    client.post("/tracks/sample/enroll")  # back after leaving
    assert enrolments == [events.Enrolled(user_id=student.id, track_id=track.id)] * 2


def test_a_refused_enrolment_tells_nobody(student, track, enrolments, monkeypatch):
    courses.enroll(student, track)
    enrolments.clear()
    with pytest.raises(DomainError, match="already enrolled"):
        courses.enroll(student, track)
    # Two requests at the same moment: the second one's row collides with the first one's.
    monkeypatch.setattr(courses, "find_enrollment", lambda user_id, track_id: None)
    with pytest.raises(DomainError, match="already enrolled"):
        courses.enroll(student, track)
    retired = make_track("retired", modules=1, lessons_per_module=1)
    retired.retired_at = clock.now_utc()
    db.session.commit()
    with pytest.raises(DomainError, match="no longer offered"):
        courses.enroll(student, retired)
    assert enrolments == []

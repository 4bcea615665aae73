"""Bulk enrolment (lms.roster.operations): the preview's outcomes, one transaction, idempotence, invitations
through the real SMTP server, refusal of a file with any error row."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from lms import clock
from lms.accounts import operations as accounts
from lms.accounts.models import Role, User
from lms.audit import AuditEvent
from lms.courses.models import Cohort, Enrollment
from lms.errors import DomainError
from lms.extensions import db
from lms.roster import operations
from tests.fixtures.files import rows
from tests.test_account_email_confirmation import link_in


@pytest.fixture
def tracks(app):
    return rows.make_track("strategist", "Social Media Strategist"), rows.make_track(
        "analyst", "Data Analyst"
    )


def csv(*lines: str) -> bytes:
    return ("\n".join(["email,name,track,cohort", *lines]) + "\n").encode()


def counts() -> tuple[int, int, int, int]:
    def n(model):
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))

    return n(User), n(Enrollment), n(Cohort), n(AuditEvent)


def enrolment(user_id: int, track_id: int) -> Enrollment | None:
    return db.session.scalar(
        sa.select(Enrollment).where(Enrollment.user_id == user_id, Enrollment.track_id == track_id)
    )


def test_the_preview_shows_every_outcome_and_writes_nothing(tracks, admin, make_user):
    strategist, analyst = tracks
    known = make_user(Role.STUDENT, email="known@example.org")
    enrolled = make_user(Role.STUDENT, email="enrolled@example.org")
    rows.enroll(enrolled, strategist)
    before = counts()
    preview = operations.preview_roster(
        csv(
            "new@example.org,New Person,strategist,Spring",
            "known@example.org,,Data Analyst,",
            "enrolled@example.org,Whoever,STRATEGIST,",
            "broken,No Email,strategist,",
            "other@example.org,Other,no-such-track,",
        ),
        admin,
    )
    assert [(r.line, r.outcome) for r in preview.rows] == [
        (2, "create"),
        (3, "enrol"),
        (4, "already enrolled"),
        (5, "error: “broken” is not an email address"),
        (6, "error: there is no track “no-such-track” (use the track's slug or title)"),
    ]
    assert preview.counts == {"create": 1, "enrol": 1, "already enrolled": 1, "error": 2}
    assert not preview.ok
    assert preview.rows[0].note.startswith("new cohort “Spring”")
    assert preview.rows[1].user_id == known.id and preview.rows[1].track_id == analyst.id
    assert preview.new_cohorts == ("Social Media Strategist: Spring",)
    assert counts() == before


def test_apply_creates_enrols_assigns_cohorts_and_invites_in_one_go(tracks, admin, make_user, account_mail):
    strategist, analyst = tracks
    clock.freeze(clock.now_utc())
    existing = make_user(Role.STUDENT, email="bob@example.org", full_name="Bob Builder")
    spring = Cohort(track_id=analyst.id, name="Spring", starts_at=clock.now_utc())
    db.session.add(spring)
    db.session.commit()
    data = csv(
        "ada@example.org,Ada Lovelace,strategist,Autumn",
        "ada@example.org,Ada Lovelace,analyst,spring",  # the same person, a second track, an existing cohort
        "bob@example.org,,Data Analyst,Spring",
    )
    result = operations.apply_roster(data, admin)
    assert result.applied
    assert (result.created, result.enrolled, result.cohorts_created, result.cohort_moves) == (1, 3, 1, 0)
    ada = accounts.find_user_by_email("ada@example.org")
    assert ada is not None and ada.full_name == "Ada Lovelace" and ada.role == "student"
    autumn = db.session.scalar(sa.select(Cohort).where(Cohort.name == "Autumn"))
    assert autumn.track_id == strategist.id and autumn.starts_at.date() == clock.now_utc().date()
    assert enrolment(ada.id, strategist.id).cohort_id == autumn.id
    assert enrolment(ada.id, analyst.id).cohort_id == spring.id
    assert enrolment(existing.id, analyst.id).cohort_id == spring.id
    [mail] = account_mail  # one invitation for the new account; Bob already had one
    assert mail.to == "ada@example.org" and "invited" in mail.subject and admin.full_name in mail.body
    assert "/reset-password/" in link_in(mail, "reset-password")
    event = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "roster.applied"))
    assert event.actor_id == admin.id and event.subject_id == result.preview.sha256
    assert event.data == {
        "rows": 3,
        "created": 1,
        "enrolled": 3,
        "already": 0,
        "cohorts_created": 1,
        "cohort_moves": 0,
    }


def test_applying_the_same_file_twice_changes_nothing_the_second_time(
    tracks, admin, account_mail, monkeypatch
):
    from lms.accounts import administration

    hashed = []
    real_hash = administration.hash_password
    monkeypatch.setattr(administration, "hash_password", lambda p: hashed.append(p) or real_hash(p))
    data = csv("ada@example.org,Ada Lovelace,strategist,Autumn", "grace@example.org,Grace Hopper,analyst,")
    first = operations.apply_roster(data, admin)
    assert len(hashed) == 1  # one slow hash for the file's invitations, not one each
    assert first.changed == 5 and len(account_mail) == 2
    users, enrolments, cohorts, _ = counts()
    second = operations.apply_roster(data, admin)
    assert second.applied and second.changed == 0
    assert [r.kind for r in second.preview.rows] == ["already enrolled", "already enrolled"]
    assert counts()[:3] == (users, enrolments, cohorts)
    assert len(account_mail) == 2  # no second invitation


def test_a_file_with_any_error_row_is_refused_whole(tracks, admin, account_mail):
    before = counts()
    result = operations.apply_roster(
        csv("ada@example.org,Ada Lovelace,strategist,Autumn", "grace@example.org,,analyst,"), admin
    )
    assert not result.applied
    assert [r.outcome for r in result.preview.errors] == ["error: no name, which a new account needs"]
    assert counts() == before and len(account_mail) == 0


def test_a_failure_half_way_rolls_back_every_row(tracks, admin, account_mail, monkeypatch):
    from lms.roster import applying

    calls = []

    def failing(actor, user, track, at=None, cohort_id=None):
        calls.append(user.email)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(actor, user, track, at, cohort_id)

    real = applying.courses.enroll_on_behalf
    monkeypatch.setattr(applying.courses, "enroll_on_behalf", failing)
    before = counts()
    with pytest.raises(RuntimeError):
        operations.apply_roster(
            csv("ada@example.org,Ada Lovelace,strategist,Autumn", "grace@example.org,Grace,analyst,"), admin
        )
    assert counts() == before and len(account_mail) == 0


def test_deactivated_retired_duplicate_and_left_rows(tracks, admin, make_user):
    strategist, analyst = tracks
    gone = make_user(Role.STUDENT, email="gone@example.org")
    accounts.deactivate_user(admin, gone)
    returning = make_user(Role.STUDENT, email="back@example.org")
    left = rows.enroll(returning, analyst)
    left.left_at = clock.now_utc()
    strategist.retired_at = clock.now_utc()
    db.session.commit()
    preview = operations.preview_roster(
        csv(
            "gone@example.org,Gone,analyst,",
            "new@example.org,New,strategist,",
            "back@example.org,Back,analyst,",
            "BACK@example.org,Back,Data Analyst,",
        ),
        admin,
    )
    assert [r.outcome for r in preview.rows] == [
        "error: the account is deactivated: reactivate it first",
        "error: Social Media Strategist is no longer offered",
        "enrol",
        "error: the same email and track as line 4",
    ]
    assert preview.rows[2].note == "returns to a track left earlier (progress kept)"


def test_an_already_enrolled_row_naming_another_cohort_moves_it(tracks, admin, student):
    strategist, _ = tracks
    rows.enroll(student, strategist)
    data = csv(f"{student.email},,strategist,Late starters")
    preview = operations.preview_roster(data, admin)
    assert preview.rows[0].kind == "already enrolled" and "moves to cohort" in preview.rows[0].note
    result = operations.apply_roster(data, admin)
    assert (result.enrolled, result.cohorts_created, result.cohort_moves) == (0, 1, 1)
    assert enrolment(student.id, strategist.id).cohort.name == "Late starters"
    assert operations.apply_roster(data, admin).changed == 0


def test_a_file_that_cannot_be_read_is_a_clear_domain_error(app, admin):
    for data, message in [
        (b"", "empty"),
        (b"email,name\nada@example.org,Ada\n", "lacks track"),
        ("email,name,track\nzoë@example.org,Zoë,x\n".encode("latin-1"), "not UTF-8"),
        (b"email,name,track\n", "no rows"),
    ]:
        with pytest.raises(DomainError, match=message):
            operations.preview_roster(data, admin)


def test_a_staged_file_is_found_only_by_its_admin_with_its_hash(tracks, admin, make_user):
    data = csv("ada@example.org,Ada Lovelace,strategist,")
    staged = operations.stage_roster(admin, data, "people.csv")
    assert operations.staged_roster(admin, staged.key, staged.sha256).content == data
    with pytest.raises(DomainError, match="not the one previewed"):
        operations.staged_roster(admin, staged.key, "0" * 64)
    other = make_user(Role.ADMIN)
    with pytest.raises(DomainError, match="no longer available"):
        operations.staged_roster(other, staged.key, staged.sha256)
    operations.apply_roster(data, admin, staged_key=staged.key)
    with pytest.raises(DomainError, match="no longer available"):
        operations.staged_roster(admin, staged.key, staged.sha256)

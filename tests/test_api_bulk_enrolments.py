"""POST /api/v1/enrolments/bulk: a bulk-enrolment CSV through the API, previewed by default, applied on request,
with the admin page's rules (lms.roster): one transaction, idempotent, a file with an error row refused whole."""

from __future__ import annotations

import sqlalchemy as sa

from lms.accounts.models import User
from lms.courses.models import Cohort, Enrollment
from lms.extensions import db
from tests.api_support import bearer, is_problem, make_token
from tests.fixtures.courses.samples import make_track

FILE = "email,name,track,cohort\nnia@example.org,Nia Nowak,strategy,Spring\n{student},Someone,strategy,\n"


def bulk(client, secret, csv, **extra):
    return client.post("/api/v1/enrolments/bulk", json={"csv": csv, **extra}, headers=bearer(secret))


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_default_is_a_preview_that_writes_nothing(client, admin, student, account_mail):
    make_track(slug="strategy")
    users, enrolments = count(User), count(Enrollment)
    response = bulk(client, make_token(admin), FILE.format(student=student.email))
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["applied"] is False and len(body["sha256"]) == 64
    assert [(row["line"], row["email"], row["outcome"]) for row in body["rows"]] == [
        (2, "nia@example.org", "create"),
        (3, student.email, "enrol"),
    ]
    assert body["counts"]["create"] == 1 and body["counts"]["enrol"] == 1
    assert body["new_cohorts"] and "Spring" in body["new_cohorts"][0]
    assert (count(User), count(Enrollment), count(Cohort)) == (users, enrolments, 0)
    assert len(account_mail) == 0


def test_applying_creates_enrols_and_invites_once(client, admin, student, account_mail):
    track = make_track(slug="strategy")
    secret = make_token(admin)
    csv = FILE.format(student=student.email)
    first = bulk(client, secret, csv, dry_run=False)
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert body["applied"] is True
    assert (body["created"], body["enrolled"], body["cohorts_created"]) == (1, 2, 1)
    nia = db.session.scalar(sa.select(User).where(User.email == "nia@example.org"))
    assert nia is not None and nia.full_name == "Nia Nowak"
    enrolled = db.session.scalars(sa.select(Enrollment).where(Enrollment.track_id == track.id)).all()
    assert {row.user_id for row in enrolled} == {nia.id, student.id}
    [spring] = db.session.scalars(sa.select(Cohort)).all()
    assert {row.user_id: row.cohort_id for row in enrolled}[nia.id] == spring.id
    assert [mail.to for mail in account_mail if "invited" in mail.subject] == ["nia@example.org"]
    again = bulk(client, secret, csv, dry_run=False).get_json()  # the same file: nothing changes
    assert again["applied"] is True and (again["created"], again["enrolled"], again["cohorts_created"]) == (
        0,
        0,
        0,
    )
    assert {row["outcome"] for row in again["rows"]} == {"already enrolled"}
    assert count(User) == 3 and count(Enrollment) == 2 and count(Cohort) == 1
    assert len([mail for mail in account_mail if "invited" in mail.subject]) == 1


def test_a_file_with_an_error_row_is_refused_whole(client, admin, student):
    make_track(slug="strategy")
    csv = FILE.format(student=student.email) + "not-an-address,Bad Row,strategy,\nzoe@example.org,Zoe,nope,\n"
    users = count(User)
    body = is_problem(bulk(client, make_token(admin), csv, dry_run=False), 422)
    assert set(body["errors"]) == {"line 4", "line 5"}
    assert body["roster"]["applied"] is False and len(body["roster"]["rows"]) == 4
    assert count(User) == users and count(Enrollment) == 0 and count(Cohort) == 0


def test_an_unreadable_file_or_a_missing_scope_is_a_problem(client, admin):
    make_track(slug="strategy")
    no_header = is_problem(bulk(client, make_token(admin), "just some words"), 422)
    assert "csv" in no_header["errors"]
    reader = make_token(admin, scopes=["enrolments:read"])
    assert is_problem(bulk(client, reader, "email,name,track\n"), 403)["required_scope"] == "enrolments:write"
    assert "csv" in is_problem(bulk(client, make_token(admin), ""), 422)["errors"]

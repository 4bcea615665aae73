"""Users, cohorts and enrolments through the API: each happy path and its refusals."""

from __future__ import annotations

import sqlalchemy as sa

from lms.audit import AuditEvent
from lms.courses.models import Enrollment
from lms.extensions import db
from tests.api_support import bearer, is_problem, make_token
from tests.fixtures.courses.samples import make_track


def post(client, url, secret, **json):
    return client.post(url, json=json, headers=bearer(secret), csrf=False)


def test_creating_a_user_invites_them_and_answers_201_with_location(client, admin, account_mail):
    secret = make_token(admin)
    response = post(
        client, "/api/v1/users", secret, email=" Nia@Example.org ", full_name="Nia  Nowak", role="instructor"
    )
    assert response.status_code == 201
    body = response.get_json()
    assert (
        body["email"] == "nia@example.org"
        and body["full_name"] == "Nia Nowak"
        and body["role"] == "instructor"
    )
    assert body["active"] is True and body["email_confirmed"] is False
    assert body["created_at"].endswith("Z")
    assert response.headers["Location"] == f"/api/v1/users/{body['id']}"
    assert client.get(response.headers["Location"], headers=bearer(secret)).get_json() == body
    invited = db.session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "user.invited"))
    assert invited.actor_id == admin.id and invited.subject_id == str(body["id"])
    assert [mail.to for mail in account_mail] == ["nia@example.org"]  # the invitation really left


def test_an_email_already_taken_is_a_422_on_the_email_field(client, admin, student):
    body = is_problem(
        post(client, "/api/v1/users", make_token(admin), email=student.email, full_name="Again"), 422
    )
    assert "already exists" in body["errors"]["email"][0]


def test_users_are_listed_with_filters(client, admin, student, instructor):
    secret = make_token(admin)

    def emails(query: str) -> list[str]:
        return [
            u["email"]
            for u in client.get(f"/api/v1/users?{query}", headers=bearer(secret)).get_json()["items"]
        ]

    assert emails("role=instructor") == [instructor.email]
    assert emails(f"email={student.email.upper()}") == [student.email]
    post(client, f"/api/v1/users/{student.id}/deactivate", secret)
    assert emails("active=false") == [student.email]
    assert student.email not in emails("active=true")


def test_deactivate_and_reactivate(client, admin, student):
    secret = make_token(admin)
    off = post(client, f"/api/v1/users/{student.id}/deactivate", secret)
    assert off.status_code == 200 and off.get_json()["active"] is False
    on = post(client, f"/api/v1/users/{student.id}/reactivate", secret)
    assert on.status_code == 200 and on.get_json()["active"] is True
    assert is_problem(post(client, "/api/v1/users/999999/deactivate", secret), 404)


def test_the_token_cannot_deactivate_its_own_admin(client, admin):
    body = is_problem(post(client, f"/api/v1/users/{admin.id}/deactivate", make_token(admin)), 422)
    assert body["detail"]
    db.session.expire_all()
    assert admin.active


def test_cohorts_of_a_track_are_created_and_listed(client, admin):
    secret = make_token(admin)
    make_track(slug="strategy")
    created = post(
        client, "/api/v1/tracks/strategy/cohorts", secret, name="Spring 2027", starts_on="2027-03-01"
    )
    assert created.status_code == 201
    assert created.get_json()["starts_at"] == "2027-03-01T00:00:00Z"
    listed = client.get("/api/v1/tracks/strategy/cohorts", headers=bearer(secret)).get_json()["items"]
    assert [c["name"] for c in listed] == ["Spring 2027"]
    twice = post(
        client, "/api/v1/tracks/strategy/cohorts", secret, name="Spring 2027", starts_on="2027-03-01"
    )
    assert "already has a cohort" in is_problem(twice, 422)["errors"]["name"][0]
    is_problem(client.get("/api/v1/tracks/nope/cohorts", headers=bearer(secret)), 404)


def test_an_invited_user_is_enrolled_into_a_cohort(client, admin):
    secret = make_token(admin)
    track = make_track(slug="strategy")
    cohort = post(
        client, "/api/v1/tracks/strategy/cohorts", secret, name="Autumn", starts_on="2026-09-01"
    ).get_json()
    user = post(client, "/api/v1/users", secret, email="ola@example.org", full_name="Ola").get_json()
    response = post(
        client, "/api/v1/enrolments", secret, user_id=user["id"], track="strategy", cohort_id=cohort["id"]
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["user_id"] == user["id"] and body["track"] == "strategy" and body["cohort_id"] == cohort["id"]
    assert body["active"] is True and body["left_at"] is None
    assert client.get(response.headers["Location"], headers=bearer(secret)).get_json() == body
    row = db.session.get(Enrollment, body["id"])
    assert (row.user_id, row.track_id, row.cohort_id) == (user["id"], track.id, cohort["id"])


def test_enrolment_refusals(client, admin, student):
    secret = make_token(admin)
    make_track(slug="strategy")
    other = make_track(slug="other")
    from lms.clock import now_utc
    from lms.gradebook import operations as gradebook

    foreign = gradebook.create_cohort(admin, other, "Elsewhere", now_utc().date(), now_utc())
    assert post(client, "/api/v1/enrolments", secret, user_id=student.id, track="strategy").status_code == 201
    again = post(client, "/api/v1/enrolments", secret, user_id=student.id, track="strategy")
    assert "already enrolled" in is_problem(again, 422)["detail"]
    wrong_cohort = post(
        client, "/api/v1/enrolments", secret, user_id=student.id, track="strategy", cohort_id=foreign.id
    )
    assert "cohort_id" in is_problem(wrong_cohort, 422)["errors"]
    assert (
        "track"
        in is_problem(post(client, "/api/v1/enrolments", secret, user_id=student.id, track="nope"), 422)[
            "errors"
        ]
    )
    assert (
        "user_id"
        in is_problem(post(client, "/api/v1/enrolments", secret, user_id=999999, track="strategy"), 422)[
            "errors"
        ]
    )
    assert is_problem(client.get("/api/v1/enrolments/999999", headers=bearer(secret)), 404)


def test_enrolments_are_listed_by_track_cohort_and_user(client, admin, student, make_user):
    secret = make_token(admin)
    make_track(slug="strategy")
    make_track(slug="other")
    cohort = post(
        client, "/api/v1/tracks/strategy/cohorts", secret, name="A", starts_on="2026-09-01"
    ).get_json()
    someone = make_user()
    post(client, "/api/v1/enrolments", secret, user_id=student.id, track="strategy", cohort_id=cohort["id"])
    post(client, "/api/v1/enrolments", secret, user_id=someone.id, track="strategy")
    post(client, "/api/v1/enrolments", secret, user_id=someone.id, track="other")

    def pairs(query: str) -> list[tuple[int, str]]:
        items = client.get(f"/api/v1/enrolments?{query}", headers=bearer(secret)).get_json()["items"]
        return [(e["user_id"], e["track"]) for e in items]

    assert pairs("track=strategy") == [(student.id, "strategy"), (someone.id, "strategy")]
    assert pairs(f"cohort_id={cohort['id']}") == [(student.id, "strategy")]
    assert pairs(f"user_id={someone.id}") == [(someone.id, "strategy"), (someone.id, "other")]
    assert pairs(f"user_id={someone.id}&track=other") == [(someone.id, "other")]

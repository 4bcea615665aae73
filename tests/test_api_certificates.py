"""Certificates and a student's results through the API: list, read, verify, issue, revoke; progress, quiz results
as the review policy lets the student see them, the handbook's grade once released, the certificate."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms import clock
from lms.assignments import operations as assignments
from lms.certificates import operations as certificates
from lms.courses import operations as courses
from lms.extensions import db
from tests.api_support import bearer, is_problem, make_token
from tests.fixtures.courses.samples import enrol_directly, make_track
from tests.fixtures.files import rows, samples


def post(client, url, secret, **json):
    return client.post(url, json=json, headers=bearer(secret), csrf=False)


def complete_track(user, track):
    from lms.courses.models import Lesson

    for lesson in db.session.scalars(
        db.select(Lesson).where(Lesson.track_id == track.id).order_by(Lesson.id)
    ):
        courses.complete_lesson(user, lesson)


@pytest.fixture
def earned(app, student):
    """A track whose rule is "all modules", completed by the student: the certificate issues itself."""
    track = make_track(slug="strategy", modules=1, lessons_per_module=2)
    enrol_directly(student.id, track)
    complete_track(student, track)
    certificate = certificates.active_certificate(student.id, track.id)
    assert certificate is not None
    return certificate


def test_a_certificate_is_read_by_its_code_with_its_verify_url(client, admin, student, earned):
    secret = make_token(admin)
    for code in (earned.display_code, earned.code, earned.display_code.lower()):
        body = client.get(f"/api/v1/certificates/{code}", headers=bearer(secret)).get_json()
        assert (
            body["code"] == earned.display_code
            and body["user_id"] == student.id
            and body["track"] == "strategy"
        )
        assert body["state"] == "active" and body["status"] == "valid" and body["version"] == 1
        assert body["verify_url"].endswith(f"/verify/{earned.display_code}")
        assert body["issued_at"].endswith("Z") and body["revoked_at"] is None
    assert is_problem(client.get("/api/v1/certificates/7KQ2-M9XD-4TRW-X", headers=bearer(secret)), 404)
    assert is_problem(client.get("/api/v1/certificates/short", headers=bearer(secret)), 404)


def test_certificates_are_listed_with_filters(client, admin, student, make_user, earned):
    secret = make_token(admin)
    other = make_user()
    track = db.session.get(type(earned.track), earned.track_id)
    enrol_directly(other.id, track)
    clock.freeze(clock.now_utc() + timedelta(days=10))
    complete_track(other, track)
    later = certificates.active_certificate(other.id, track.id)
    make_track(slug="empty")

    def codes(query: str) -> list[str]:
        return [
            c["code"]
            for c in client.get(f"/api/v1/certificates?{query}", headers=bearer(secret)).get_json()["items"]
        ]

    assert codes("") == [earned.display_code, later.display_code]
    assert codes("track=strategy") == [earned.display_code, later.display_code]
    assert codes("track=empty") == []
    assert codes(f"user_id={other.id}") == [later.display_code]
    since = (clock.now_utc() - timedelta(days=1)).isoformat()
    assert codes(f"issued_since={since.replace('+00:00', 'Z')}") == [later.display_code]
    certificates.revoke_certificate(earned, admin, "Plagiarism found.")
    assert codes("state=revoked") == [earned.display_code]
    assert codes("state=active") == [later.display_code]


def test_verification_tells_what_the_public_verify_page_tells(client, admin, earned):
    secret = make_token(admin)

    def both(code: str) -> tuple[str, int]:
        api = client.get(f"/api/v1/certificates/{code}/verification", headers=bearer(secret))
        assert api.status_code == 200
        return api.get_json()["status"], client.get(f"/verify/{code}").status_code

    assert both(earned.display_code) == ("valid", 200)
    assert both("7KQ2-M9XD-4TRW-H")[0] in ("not_found", "invalid")
    certificates.revoke_certificate(earned, admin, "Issued in error.")
    status, page = both(earned.display_code)
    assert (status, page) == ("revoked", 410)
    body = client.get(
        f"/api/v1/certificates/{earned.display_code}/verification", headers=bearer(secret)
    ).get_json()
    assert body["revoked_reason"] == "Issued in error." and body["holder_name"] == earned.current.holder_name
    assert (
        client.get("/api/v1/certificates/not-a-code/verification", headers=bearer(secret)).get_json()[
            "status"
        ]
        == "invalid"
    )


def test_revoke_needs_a_reason_and_happens_once(client, admin, earned):
    secret = make_token(admin)
    url = f"/api/v1/certificates/{earned.display_code}/revoke"
    assert "reason" in is_problem(post(client, url, secret), 422)["errors"]
    done = post(client, url, secret, reason="Identity fraud.")
    assert done.status_code == 200
    assert done.get_json()["state"] == "revoked" and done.get_json()["revoked_reason"] == "Identity fraud."
    assert is_problem(post(client, url, secret, reason="Again."), 409)
    read_only = make_token(admin, scopes=["certificates:read"], name="reader")
    assert is_problem(post(client, url, read_only, reason="x"), 403)["required_scope"] == "certificates:write"


def test_issue_needs_an_eligible_student_and_no_certificate_held(client, admin, student, make_user, earned):
    secret = make_token(admin)
    held = post(client, "/api/v1/certificates", secret, user_id=student.id, track="strategy")
    assert "already holds" in is_problem(held, 409)["detail"]

    newcomer = make_user()
    enrol_directly(newcomer.id, db.session.get(type(earned.track), earned.track_id))
    refused = is_problem(
        post(client, "/api/v1/certificates", secret, user_id=newcomer.id, track="strategy"), 422
    )
    assert refused["requirements"] == [{"key": "modules", "label": "All modules complete"}]

    # After a revocation the platform never issues again by itself; an eligible student gets one through the API.
    certificates.revoke_certificate(earned, admin, "Issued on the wrong name.")
    issued = post(
        client, "/api/v1/certificates", secret, user_id=student.id, track="strategy", reason="Name fixed."
    )
    assert issued.status_code == 201
    body = issued.get_json()
    assert body["code"] != earned.display_code and body["state"] == "active"
    assert issued.headers["Location"] == f"/api/v1/certificates/{body['code']}"
    assert (
        "track"
        in is_problem(post(client, "/api/v1/certificates", secret, user_id=student.id, track="nope"), 422)[
            "errors"
        ]
    )


def test_results_show_progress_and_the_certificate(client, admin, student, earned):
    secret = make_token(admin)
    body = client.get(f"/api/v1/users/{student.id}/results/strategy", headers=bearer(secret)).get_json()
    assert body["progress"] == {
        "done": 2, "total": 2, "percent": 100, "complete": True,
        "modules": [{"slug": "m1", "title": "Module 1", "done": 2, "total": 2}],
    }  # fmt: skip
    assert body["certificate"]["code"] == earned.display_code
    assert body["quizzes"] == [] and body["handbooks"] == []
    assert is_problem(client.get(f"/api/v1/users/{student.id}/results/nope", headers=bearer(secret)), 404)
    assert is_problem(client.get("/api/v1/users/999999/results/strategy", headers=bearer(secret)), 404)


def test_quiz_results_follow_the_review_policy(client, login, admin, student, tmp_path):
    from tests.test_quiz_attempts import at
    from tests.test_quiz_review_policy import FAILING, PASSING, take
    from tests.test_quiz_support import setup_quiz

    at(0)
    setup_quiz(tmp_path, student, attempts_allowed=3)
    secret = make_token(admin)
    login(client, student)
    take(client, FAILING)

    def quiz() -> dict:
        return client.get(
            f"/api/v1/users/{student.id}/results/test-track", headers=bearer(secret)
        ).get_json()["quizzes"][0]

    failed = quiz()
    assert failed["slug"] == "basics-quiz" and failed["passed"] is False
    attempt = failed["attempts"][0]
    assert attempt["review"] == "answers" and "pass this quiz" in attempt["held_back"]
    assert {q["question"] for q in attempt["questions"]} >= {"goal", "roi"}
    roi = next(q for q in attempt["questions"] if q["question"] == "roi")
    assert roi["answer"] == "my own words" and roi["points"] == 0
    assert all("correct_answer" not in q for q in attempt["questions"])  # held back while attempts are left

    take(client, PASSING)
    passed = quiz()
    assert passed["passed"] is True and passed["counting_percent"] == 60.0
    for attempt in passed["attempts"]:  # once passed, every attempt shows them
        assert attempt["review"] == "correct_answers"
        answers = {q["question"]: q["correct_answer"] for q in attempt["questions"]}
        assert answers["pilot"] is True and "return on investment" in answers["roi"]


def test_the_handbook_grade_shows_only_once_released(client, admin, student, instructor):
    track = rows.make_track()
    assignment = rows.make_assignment(track, criteria=3)
    rows.enroll(student, track)
    secret = make_token(admin)
    clock.freeze(clock.now_utc() + timedelta(days=1))
    submission = rows.hand_in(student, assignment, samples.pdf(), "handbook.pdf")

    def handbook() -> dict:
        url = f"/api/v1/users/{student.id}/results/{track.slug}"
        return client.get(url, headers=bearer(secret)).get_json()["handbooks"][0]

    assert handbook()["state"] == "submitted" and handbook()["grade"] is None
    rows.grade(instructor, submission)
    graded = handbook()
    assert graded["state"] == "graded" and graded["grade"] is None  # graded, not released: nothing shows
    db.session.expire_all()
    assignments.release_grade(instructor, db.session.get(type(submission), submission.id), clock.now_utc())
    released = handbook()
    assert released["state"] == "released" and released["version"] == 1
    assert released["grade"]["decision"] == "pass" and released["grade"]["points"] > 0
    assert released["grade"]["released_at"].endswith("Z")

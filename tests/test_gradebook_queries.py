"""The gradebook runs the same number of SQL queries for 3 students as for 60 (no query per student)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from lms import clock
from lms.certificates import operations as certificates
from lms.courses.models import Enrollment
from lms.extensions import db
from tests.fixtures.files import rows
from tests.test_gradebook_support import (
    add_attempt,
    complete,
    counting_queries,
    lessons_of,
    make_quiz,
    make_track,
    quick_submission,
    quick_user,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
STATES = ("draft", "submitted", "in_grading", "graded", "returned", "released")


def add_students(track, quizzes, assignment, instructor, first: int, count: int) -> None:
    """Students who each have lessons done, attempts at every quiz, a submission and (most) a certificate."""
    lessons = lessons_of(track)
    users = [quick_user(n) for n in range(first, first + count)]
    db.session.commit()
    for n, user in enumerate(users, start=first):
        db.session.add(Enrollment(user_id=user.id, track_id=track.id, enrolled_at=NOW - timedelta(days=30)))
        complete(user, lessons[: n % (len(lessons) + 1)])
        for quiz in quizzes:
            add_attempt(user, quiz, float(40 + n % 60), started=NOW - timedelta(days=2))
            if n % 3 == 0:
                add_attempt(user, quiz, None, started=NOW - timedelta(hours=1))  # overdue, not finalized
        quick_submission(user, assignment, STATES[n % len(STATES)], late=3600 * (n % 2))
        db.session.commit()
        if n % 4:
            certificate = certificates.issue_certificate(user, track, instructor, "Completed.")
            if n % 4 == 3:
                certificates.revoke_certificate(certificate, instructor, "Withdrawn.")


def queries_for(client, url: str) -> int:
    client.get(url)  # warm: the first request may fill caches
    with counting_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


def test_constant_queries_from_3_to_60_students(client, login, instructor, app):
    clock.freeze(NOW)
    track = make_track("counted", modules=3, lessons=3)
    quizzes = [
        make_quiz(track, "q1", "m1"),
        make_quiz(track, "q2", "m2", grading="last"),
        make_quiz(track, "q3", "m3"),
        make_quiz(track, "final"),
    ]
    assignment = rows.make_assignment(track, "handbook", criteria=2, blind=False)
    add_students(track, quizzes, assignment, instructor, 1, 3)
    login(client, instructor)
    urls = [
        "/gradebook",
        "/gradebook/counted?sort=progress",
        "/gradebook/counted.csv",
        "/gradebook/counted?q=cohort",
    ]
    small = {url: queries_for(client, url) for url in urls}

    add_students(track, quizzes, assignment, instructor, 4, 57)
    large = {url: queries_for(client, url) for url in urls}
    assert large == small
    assert queries_for(client, "/gradebook/counted?page=2") == small["/gradebook/counted?sort=progress"]
    assert small["/gradebook/counted?sort=progress"] <= 12  # the roster, its count and one query per fact

    html = client.get("/gradebook/counted?page=2").get_data(as_text=True)
    assert html.count("<tr data-student=") == 10
    csv_text = client.get("/gradebook/counted.csv").get_data(as_text=True)
    assert len(csv_text.strip().splitlines()) == 61

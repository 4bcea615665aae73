"""Catalog, track and lesson pages, enrolment, progress, unlocking, the dashboard panel, and query counts."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from lms import events
from lms.accounts.models import Role
from lms.audit import AuditEvent
from lms.clock import now_utc
from lms.courses import operations
from lms.courses.models import Enrollment, LessonCompletion, Track
from lms.errors import DomainError
from lms.extensions import db
from tests.fixtures.courses.samples import enrol_directly, lesson_by_slug, make_track
from tests.support import recorded_statements


def text(response) -> str:
    return response.get_data(as_text=True)


def progress_values(html: str) -> list[str]:
    return re.findall(r'aria-valuenow="(\d+)"', html)


def completions(user) -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(LessonCompletion.user_id == user.id))


@pytest.fixture
def track() -> Track:
    """Two modules of two lessons, opened in order."""
    return make_track("sample", modules=2, lessons_per_module=2, program_weeks=2)


def test_catalog_lists_offered_tracks_and_the_menu_shows_tracks_first(client, track):
    retired = make_track("old-one")
    retired.retired_at = now_utc()
    db.session.commit()
    page = text(client.get("/tracks"))
    assert "Track sample" in page and "Track old-one" not in page
    assert "2 modules · 4 lessons · about 20 minutes" in page
    assert "A 2-week program" in page
    nav = re.findall(r"<li><a href=\"([^\"]+)\"", page)
    assert nav[0] == "/tracks"


def test_track_page_shows_modules_certificate_validity_and_weeks(client, track):
    page = text(client.get("/tracks/sample"))
    assert "The holder completed a sample track." in page
    assert "valid for 12 months" in page and "2-week program" in page
    assert "Week 1" in page and "Week 2" in page
    assert "Lesson 1.1" in page and "Lesson 2.2" in page
    assert "/tracks/sample/lessons/" not in page  # visitors see titles, not links
    assert "Sign in</a> or" in page


def test_enrol_leave_and_enrol_again_keeps_progress(client, login, student, track):
    login(client, student)
    response = client.post("/tracks/sample/enroll")
    assert response.status_code == 302
    assert "You are enrolled in Track sample" in text(client.get(response.location))
    enrollment = db.session.execute(sa.select(Enrollment)).scalar_one()
    assert enrollment.active and enrollment.user_id == student.id

    assert "already enrolled" in text(client.post("/tracks/sample/enroll", follow_redirects=True))
    assert '<span class="badge badge-ok">Enrolled</span>' in text(client.get("/tracks"))
    client.post("/tracks/sample/lessons/m1-l1/complete")
    assert completions(student) == 1

    page = text(client.post("/tracks/sample/leave", follow_redirects=True))
    assert "You left Track sample" in page and "Enrol again" in page
    db.session.refresh(enrollment)
    assert enrollment.left_at is not None
    assert client.get("/tracks/sample/lessons/m1-l1").status_code == 403

    client.post("/tracks/sample/enroll")
    db.session.refresh(enrollment)
    assert enrollment.active and completions(student) == 1
    assert operations.track_progress(student.id, track.id).done == 1
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action.startswith("course.")).order_by(AuditEvent.id)
    ).all()
    assert actions == ["course.enrolled", "course.left", "course.reenrolled"]


def test_enrolment_needs_the_csrf_token(client, login, student, track):
    login(client, student)
    assert client.post("/tracks/sample/enroll", csrf=False).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrollment)) == 0


def test_leaving_a_track_one_is_not_in_is_explained(client, login, student, track):
    login(client, student)
    assert "You are not enrolled in Track sample" in text(
        client.post("/tracks/sample/leave", follow_redirects=True)
    )


def test_a_retired_track_takes_no_enrolments(student, track):
    track.retired_at = now_utc()
    db.session.commit()
    with pytest.raises(DomainError, match="no longer offered"):
        operations.enroll(student, track)


def test_lessons_are_for_enrolled_students_and_staff(client, login, make_user, track):
    student = make_user(Role.STUDENT)
    login(client, student)
    response = client.get("/tracks/sample/lessons/m1-l1")
    assert response.status_code == 403
    assert "Enrol in Track sample" in text(response) and "Body of lesson" not in text(response)
    assert client.get("/tracks/sample/lessons/no-such-lesson").status_code == 404
    assert client.get("/tracks/no-such-track").status_code == 404

    for role in (Role.INSTRUCTOR, Role.ADMIN):
        login(client, make_user(role))
        page = text(client.get("/tracks/sample/lessons/m2-l2"))  # a locked module means nothing to staff
        assert "Body of lesson 2.2." in page and "enrol to record progress" in page


def test_lesson_page_reads_records_the_visit_and_marks_complete(client, login, student, track):
    enrollment = enrol_directly(student.id, track)
    login(client, student)
    page = text(client.get("/tracks/sample/lessons/m1-l1"))
    assert "Body of lesson 1.1." in page
    assert "Time: about 5 minutes" in page
    assert 'rel="next" href="/tracks/sample/lessons/m1-l2"' in page and 'rel="prev"' not in page
    assert progress_values(page) == ["0", "0"]  # track, module
    db.session.refresh(enrollment)
    assert enrollment.last_lesson_id == lesson_by_slug(track, "m1-l1").id

    response = client.post("/tracks/sample/lessons/m1-l1/complete")
    assert response.location == "/tracks/sample/lessons/m1-l1"
    page = text(client.get(response.location))
    assert "is complete" in page and "Mark as complete" not in page
    assert progress_values(page) == ["25", "50"]
    assert "1 of 4 lessons · 25%" in page

    client.post("/tracks/sample/lessons/m1-l1/complete")  # again: nothing new
    assert completions(student) == 1


def test_completion_tells_listeners_once(student, track, monkeypatch):
    heard = []
    monkeypatch.setitem(
        events._handlers, (events.ProgressChanged, events.Phase.IN_TRANSACTION), [heard.append]
    )
    enrol_directly(student.id, track)
    lesson = lesson_by_slug(track, "m1-l1")
    operations.complete_lesson(student, lesson)
    operations.complete_lesson(student, lesson)
    assert heard == [events.ProgressChanged(user_id=student.id, track_id=track.id)]


def test_completing_needs_an_enrolment(client, login, student, track):
    login(client, student)
    page = text(client.post("/tracks/sample/lessons/m1-l1/complete", follow_redirects=True))
    assert "Enrol in Track sample to record your progress" in page
    assert completions(student) == 0


def test_modules_open_in_order(client, login, student, track):
    enrol_directly(student.id, track)
    login(client, student)
    page = text(client.get("/tracks/sample"))
    assert "Opens when you complete “Module 1”" in page
    assert 'href="/tracks/sample/lessons/m2-l1"' not in page

    locked = client.get("/tracks/sample/lessons/m2-l1")
    assert locked.status_code == 403
    assert "opens when you complete\n    “Module 1”" in text(locked) or "“Module 1”" in text(locked)
    assert "Body of lesson" not in text(locked)
    flashed = text(client.post("/tracks/sample/lessons/m2-l1/complete", follow_redirects=True))
    assert "This lesson is locked. It opens when you complete Module 1." in flashed
    assert completions(student) == 0

    for slug in ("m1-l1", "m1-l2"):
        client.post(f"/tracks/sample/lessons/{slug}/complete")
    assert client.get("/tracks/sample/lessons/m2-l1").status_code == 200
    assert "Opens when you complete" not in text(client.get("/tracks/sample"))


def test_free_tracks_open_every_module(client, login, student):
    make_track("open", modules=3, lessons_per_module=1, unlock="free")
    login(client, student)
    client.post("/tracks/open/enroll")
    assert client.get("/tracks/open/lessons/m3-l1").status_code == 200
    client.post("/tracks/open/lessons/m3-l1/complete")
    assert completions(student) == 1


def test_progress_and_modules_complete(student, track):
    enrol_directly(student.id, track)
    assert not operations.modules_complete(student.id, track.id)
    for slug in ("m1-l1", "m1-l2", "m2-l1"):
        operations.complete_lesson(student, lesson_by_slug(track, slug))
    progress = operations.track_progress(student.id, track.id)
    assert (progress.done, progress.total, progress.percent, progress.complete) == (3, 4, 75, False)
    assert not operations.modules_complete(student.id, track.id)
    operations.complete_lesson(student, lesson_by_slug(track, "m2-l2"))
    assert operations.modules_complete(student.id, track.id)
    assert operations.track_progress(student.id, track.id).percent == 100


def test_a_retired_lesson_stays_readable_for_those_who_completed_it(client, login, student, make_user, track):
    enrol_directly(student.id, track)
    lesson = lesson_by_slug(track, "m1-l2")
    operations.complete_lesson(student, lesson_by_slug(track, "m1-l1"))
    operations.complete_lesson(student, lesson)
    other = make_user(Role.STUDENT)
    enrol_directly(other.id, track)
    lesson.retired_at = now_utc()
    db.session.commit()

    login(client, student)
    page = text(client.get("/tracks/sample/lessons/m1-l2"))
    assert "Body of lesson 1.2." in page and "has been retired" in page
    assert "1 of 3 lessons" in page  # the retired lesson no longer counts
    login(client, other)
    assert client.get("/tracks/sample/lessons/m1-l2").status_code == 404
    assert "Lesson 1.2" not in text(client.get("/tracks/sample"))


def test_dashboard_continues_where_the_student_left_off(client, login, student, track):
    login(client, student)
    assert "not enrolled in a track yet" in text(client.get("/dashboard"))
    client.post("/tracks/sample/enroll")
    client.post("/tracks/sample/lessons/m1-l1/complete")
    page = text(client.get("/dashboard"))
    assert "1 of 4 lessons · 25%" in page
    assert re.search(r'href="/tracks/sample/lessons/m1-l2">\s*Continue where you left off', page)

    for slug in ("m1-l2", "m2-l1", "m2-l2"):
        client.post(f"/tracks/sample/lessons/{slug}/complete")
    client.get("/tracks/sample/lessons/m1-l2")  # all done: continue goes to the last lesson visited
    page = text(client.get("/dashboard"))
    assert "4 of 4 lessons · 100%" in page
    assert re.search(r'href="/tracks/sample/lessons/m1-l2">\s*Continue where you left off', page)


def test_staff_without_enrolments_get_no_tracks_panel(client, login, instructor):
    login(client, instructor)
    assert "Your tracks" not in text(client.get("/dashboard"))


def _grow(make_user, track: Track, students: int) -> None:
    for _ in range(students):
        other = make_user(Role.STUDENT)
        enrol_directly(other.id, track)
        db.session.add(LessonCompletion(user_id=other.id, lesson_id=lesson_by_slug(track, "m1-l1").id))
    db.session.commit()


def _queries(client, url: str) -> int:
    client.get(url)  # warm up: the connection and the session
    with recorded_statements() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def test_track_and_lesson_pages_run_a_constant_number_of_queries(client, login, student, make_user):
    small = make_track("small", modules=1, lessons_per_module=2)
    big = make_track("big", modules=6, lessons_per_module=5)
    _grow(make_user, big, students=8)
    login(client, student)
    for track in (small, big):
        client.post(f"/tracks/{track.slug}/enroll")
        client.post(f"/tracks/{track.slug}/lessons/m1-l1/complete")
    counts = {
        "track": (_queries(client, "/tracks/small"), _queries(client, "/tracks/big")),
        "lesson": (
            _queries(client, "/tracks/small/lessons/m1-l2"),
            _queries(client, "/tracks/big/lessons/m1-l2"),
        ),
        "catalog": (_queries(client, "/tracks"), _queries(client, "/tracks")),
        "dashboard": (_queries(client, "/dashboard"), None),
    }
    assert counts["track"][0] == counts["track"][1], counts
    assert counts["lesson"][0] == counts["lesson"][1], counts
    make_track("third", modules=3, lessons_per_module=3)
    client.post("/tracks/third/enroll")
    assert _queries(client, "/tracks") == counts["catalog"][0]
    assert _queries(client, "/dashboard") == counts["dashboard"][0]


# --- lesson pages kept rendered (lms.courses.lesson_views) and read in one statement ---------------------------


def _token_in(page: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def test_readers_at_the_same_point_share_a_page_but_see_their_own_name_and_token(
    app, login, make_user, track
):
    from flask import template_rendered

    first = make_user(full_name="Ada <b>First</b>")
    second = make_user(full_name="Bea Second")
    rendered: list[str] = []

    def record(_app, template, context):
        rendered.append(template.name)

    pages, clients = {}, {}
    with template_rendered.connected_to(record, app):
        for user in (first, second):
            enrol_directly(user.id, track)
            clients[user.id] = client = login(app.test_client(), user)
            pages[user.id] = text(client.get("/tracks/sample/lessons/m1-l1"))
    assert rendered.count("courses/lesson.html") == 1  # the second reader got the kept page
    first_page, second_page = pages[first.id], pages[second.id]
    assert "Ada &lt;b&gt;First&lt;/b&gt;" in first_page and "<b>First</b>" not in first_page
    assert "Bea Second" in second_page and "First" not in second_page
    assert "Bea Second" not in first_page
    assert "lms-reader-" not in first_page + second_page  # no marker left behind
    # Each page carries its reader's own token, and "Mark as complete" works with it (and only with it).
    own, other = _token_in(second_page), _token_in(first_page)
    assert own != other
    refused = clients[second.id].post(
        "/tracks/sample/lessons/m1-l1/complete", data={"csrf_token": other}, csrf=False
    )
    assert refused.status_code == 400
    done = clients[second.id].post(
        "/tracks/sample/lessons/m1-l1/complete", data={"csrf_token": own}, csrf=False
    )
    assert done.status_code == 302
    assert completions(second) == 1 and completions(first) == 0


def test_a_kept_lesson_page_follows_progress_content_and_flashed_messages(app, client, login, student, track):
    enrol_directly(student.id, track)
    login(client, student)
    page = text(client.get("/tracks/sample/lessons/m1-l2"))
    assert "Mark as complete" in page and "You have completed this lesson" not in page
    flashed = text(client.post("/tracks/sample/lessons/m1-l2/complete", follow_redirects=True))
    assert "is complete." in flashed  # the flash is shown once, on a page of its own
    again = text(client.get("/tracks/sample/lessons/m1-l2"))
    assert "You have completed this lesson" in again and "is complete." not in again
    assert progress_values(again)[0] == "25"
    # A content change (the sync raises the track's content version) shows at the next request.
    lesson = lesson_by_slug(track, "m1-l2")
    lesson.title = "Lesson 1.2, revised"
    db.session.commit()
    assert "Lesson 1.2, revised" in text(client.get("/tracks/sample/lessons/m1-l2"))


def test_lesson_page_reads_reader_track_enrolment_and_progress_in_one_statement(
    client, login, student, track
):
    enrol_directly(student.id, track)
    login(client, student)
    client.get("/tracks/sample/lessons/m1-l1")  # records the visit (a write, at most every five minutes)
    with recorded_statements() as statements:
        assert client.get("/tracks/sample/lessons/m1-l1").status_code == 200
    assert len(statements) == 1, statements
    assert "FROM users" in statements[0] and "enrollments" in statements[0]


def test_a_lesson_page_refuses_a_session_the_account_no_longer_accepts(client, login, student, track):
    from lms.accounts.models import User

    enrol_directly(student.id, track)
    login(client, student)
    assert client.get("/tracks/sample/lessons/m1-l1").status_code == 200
    user = db.session.get(User, student.id)
    user.session_version += 1  # what a password change elsewhere does
    db.session.commit()
    response = client.get("/tracks/sample/lessons/m1-l1")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    login(client, user)
    user.active = False
    db.session.commit()
    response = client.get("/tracks/sample/lessons/m1-l1")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_reader_back_by_remember_me_cookie_reads_lessons_too(client, student, track):
    from tests.conftest import PASSWORD

    enrol_directly(student.id, track)
    client.post("/login", data={"email": student.email, "password": PASSWORD, "remember": "y"})
    client.delete_cookie("session")  # the browser was closed: only the remember-me cookie is left
    page = client.get("/tracks/sample/lessons/m1-l1")
    assert page.status_code == 200 and "Stella Student" in text(page)
    assert "Mark as complete" in text(page)

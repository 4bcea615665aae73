"""Times are kept in UTC and shown on the reader's own clock, the zone always named: the account's choice, else the
browser's zone (the `tz` cookie), else UTC; staff type times on their own clock too."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from lms import clock
from lms.assignments.models import Extension
from lms.audit import AuditEvent
from lms.extensions import db
from lms.timezones import format_time, from_wall_time, reader_zone, time_element, zone_names
from tests.fixtures.files import rows
from tests.test_quiz_attempts import T0 as QUIZ_T0
from tests.test_quiz_attempts import at, start
from tests.test_quiz_support import setup_quiz

BERLIN, NEW_YORK, TOKYO = ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo")
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # the assignment is due 21 days later: 24 Mar 2025, 09:00 UTC
URL = "/assignments/strategist/handbook"


def shown(response) -> str:
    """The page as a person reads it: the text, without the tags around the times."""
    return re.sub(r"<[^>]+>", "", response.get_data(as_text=True))


# -- the one formatting function ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at_utc", "zone", "style", "expected"),
    [
        (datetime(2026, 12, 5, 21, 39, 35, tzinfo=UTC), BERLIN, "time", "22:39:35 CET"),
        (datetime(2026, 7, 5, 21, 39, 35, tzinfo=UTC), BERLIN, "time", "23:39:35 CEST"),
        (datetime(2026, 12, 5, 21, 39, 35, tzinfo=UTC), TOKYO, "datetime", "06 Dec 2026, 06:39 JST"),
        (datetime(2026, 12, 5, 21, 39, 35, tzinfo=UTC), NEW_YORK, "on", "2026-12-05 at 16:39 EST"),
        (
            datetime(2026, 12, 5, 21, 39, 35, tzinfo=UTC),
            ZoneInfo("UTC"),
            "stamp_seconds",
            "2026-12-05 21:39:35 UTC",
        ),
        # No abbreviation of letters: the offset names the zone.
        (
            datetime(2026, 12, 5, 21, 39, 35, tzinfo=UTC),
            ZoneInfo("America/Sao_Paulo"),
            "stamp",
            "2026-12-05 18:39 UTC-03:00",
        ),
        (
            datetime(2026, 12, 5, 21, 39, 35, tzinfo=UTC),
            ZoneInfo("Asia/Kathmandu"),
            "time",
            "03:24:35 UTC+05:45",
        ),
        # A day is the reader's day: late evening in New York is already the next day in UTC.
        (datetime(2026, 12, 6, 2, 0, tzinfo=UTC), NEW_YORK, "date", "05 December 2026"),
        (datetime(2026, 12, 6, 2, 0, tzinfo=UTC), NEW_YORK, "day", "2026-12-05"),
    ],
)
def test_a_utc_instant_reads_on_the_readers_clock_with_the_zone_named(at_utc, zone, style, expected):
    assert format_time(at_utc, style, zone) == expected


def test_the_clocks_changing_is_followed_to_the_second():
    # Berlin springs forward at 01:00 UTC on 29 March 2026: 01:59:59 CET, then 03:00:00 CEST.
    assert format_time(datetime(2026, 3, 29, 0, 59, 59, tzinfo=UTC), "time", BERLIN) == "01:59:59 CET"
    assert format_time(datetime(2026, 3, 29, 1, 0, 0, tzinfo=UTC), "time", BERLIN) == "03:00:00 CEST"
    # New York falls back on 1 November 2026: 01:30 happens twice, and the zone tells them apart.
    assert format_time(datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "time", NEW_YORK) == "01:30:00 EDT"
    assert format_time(datetime(2026, 11, 1, 6, 30, tzinfo=UTC), "time", NEW_YORK) == "01:30:00 EST"


def test_no_time_shows_nothing():
    assert format_time(None, "datetime", BERLIN) == ""
    assert str(time_element(None, "datetime", BERLIN)) == ""


def test_the_element_keeps_the_exact_instant_in_utc_and_names_the_zone_in_full():
    html = str(time_element(datetime(2026, 12, 5, 21, 39, 35, tzinfo=UTC), "time", BERLIN))
    assert html == (
        '<time datetime="2026-12-05T21:39:35Z" title="05 Dec 2026, 22:39 CET (Europe/Berlin)">22:39:35 CET</time>'
    )


def test_a_time_typed_on_the_readers_clock_is_kept_in_utc():
    assert from_wall_time(datetime(2026, 7, 1, 12, 0), BERLIN) == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
    assert from_wall_time(datetime(2026, 1, 1, 12, 0), BERLIN) == datetime(2026, 1, 1, 11, 0, tzinfo=UTC)
    assert from_wall_time(None, BERLIN) is None


def test_every_zone_is_offered_and_outside_a_request_the_reader_is_in_utc():
    names = zone_names()
    assert "Europe/Berlin" in names and "UTC" in names and list(names) == sorted(names)
    assert reader_zone().key == "UTC"


# -- the reader's zone: the account's choice, else the browser's, else UTC ---------------------------------------


@pytest.mark.parametrize(
    ("cookie", "expected"),
    [("Asia/Tokyo", "Asia/Tokyo"), ("../../etc/passwd", "UTC"), ("Mars/Olympus_Mons", "UTC"), ("", "UTC")],
)
def test_a_visitor_gets_the_browsers_zone_when_it_is_a_known_one(app, cookie, expected):
    with app.test_request_context("/", headers={"Cookie": f"tz={cookie}"}):
        assert reader_zone().key == expected


def test_the_accounts_choice_beats_the_browsers_zone(client, login, make_user):
    chooser = make_user(email="chooser@example.org")
    chooser.time_zone = "Europe/Berlin"
    db.session.commit()
    login(client, chooser)
    client.set_cookie("tz", "Asia/Tokyo")
    assert "Times on your pages are shown in Europe/Berlin now." in shown(client.get("/account"))
    chooser.time_zone = None
    db.session.commit()
    assert "shown in Asia/Tokyo now, the zone your browser gave" in shown(client.get("/account"))
    client.delete_cookie("tz")
    assert "shown in UTC now: your browser has not told us its zone" in shown(client.get("/account"))


def test_the_account_page_offers_every_zone_with_the_chosen_one_selected(client, login, student):
    student.time_zone = "America/New_York"
    db.session.commit()
    login(client, student)
    page = client.get("/account").get_data(as_text=True)
    assert '<option selected value="America/New_York">America/New York</option>' in page
    assert '<option value="">Use my browser&#39;s time zone</option>' in page
    assert page.count("<option") == len(zone_names()) + 1


def test_choosing_a_zone_is_saved_and_recorded(client, login, student):
    login(client, student)
    response = client.post("/account/time-zone", data={"time_zone": "Asia/Tokyo"})
    assert response.status_code == 302
    assert "Times are now shown in Asia/Tokyo." in shown(client.get(response.location))
    db.session.refresh(student)
    assert student.time_zone == "Asia/Tokyo"
    event = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "user.time_zone_changed")
    ).scalar_one()
    assert event.data["time_zone"] == [None, "Asia/Tokyo"]

    assert client.post("/account/time-zone", data={"time_zone": ""}).status_code == 302
    db.session.refresh(student)
    assert student.time_zone is None


@pytest.mark.parametrize("bad", ["Mars/Olympus_Mons", "../etc/localtime", "europe/berlin", "CET", "x" * 300])
def test_an_unknown_zone_is_refused_with_a_clear_message(client, login, student, bad):
    student.time_zone = "Europe/Berlin"
    db.session.commit()
    login(client, student)
    response = client.post("/account/time-zone", data={"time_zone": bad})
    assert response.status_code == 422
    assert "Choose a time zone from the list, such as Europe/Berlin." in shown(response)
    db.session.refresh(student)
    assert student.time_zone == "Europe/Berlin"


# -- pages ------------------------------------------------------------------------------------------------------


@pytest.fixture
def course(app, student, client, login):
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track, due_days=21, cutoff_days=14)
    rows.enroll(student, track, T0)
    login(client, student)
    return SimpleNamespace(track=track, assignment=assignment, student=student)


def test_an_assignments_due_date_and_the_dashboard_are_on_the_students_clock(client, course):
    course.student.time_zone = "Europe/Berlin"
    db.session.commit()
    assignment_page = shown(client.get(URL))
    assert "24 Mar 2025, 10:00 CET" in assignment_page and "09:00 UTC" not in assignment_page
    assert "Due 24 Mar 2025, 10:00 CET" in shown(client.get("/dashboard"))


def test_without_a_choice_the_dashboard_follows_the_browser(client, course):
    client.set_cookie("tz", "America/New_York")  # daylight saving time began in New York on 9 March 2025
    assert "Due 24 Mar 2025, 05:00 EDT" in shown(client.get("/dashboard"))


def test_an_extension_is_typed_on_the_instructors_clock(client, course, login, make_user):
    berliner = make_user(role="instructor")
    berliner.time_zone = "Europe/Berlin"
    db.session.commit()
    login(client, berliner)
    url = f"/grading/assignments/{course.assignment.id}/extensions"
    assert "New due date and time (Europe/Berlin)" in shown(client.get(url))
    response = client.post(
        url, data={"student": str(course.student.id), "due_at": "2025-04-20T12:00", "reason": "Illness."}
    )
    assert response.status_code == 302
    extension = db.session.execute(sa.select(Extension)).scalar_one()
    assert extension.due_at == datetime(2025, 4, 20, 10, 0, tzinfo=UTC)  # 12:00 CEST
    assert "To 20 Apr 2025, 12:00 CEST" in shown(client.get(url))


def test_a_running_quizs_deadline_and_messages_are_on_the_students_clock(
    app, client, login, student, tmp_path
):
    at(0)
    setup_quiz(tmp_path, student)
    student.time_zone = "Asia/Tokyo"
    db.session.commit()
    login(client, student)
    attempt_id = start(client)  # 10 minutes from 10:00 UTC: until 19:10:00 JST
    assert QUIZ_T0.hour == 10
    page = client.get(f"/quizzes/attempts/{attempt_id}").get_data(as_text=True)
    assert 'data-zone="Asia/Tokyo" data-zone-label="JST"' in page
    assert "(until 19:10:00 JST" in re.sub(r"<[^>]+>", "", page) and "UTC" not in re.sub(r"<[^>]+>", "", page)
    at(100)
    refused = client.post(f"/quizzes/attempts/{attempt_id}/submit", json={"reason": "time_up"})
    assert refused.status_code == 409
    assert refused.get_json()["message"] == "Time is not up yet: your attempt runs until 19:10:00 JST."


def test_a_certificates_public_page_stays_in_utc_while_its_holders_list_follows_the_holder(
    client, login, make_user, admin
):
    from lms.certificates import operations as certificates
    from tests.fixtures.courses.samples import make_track

    clock.freeze(datetime(2025, 3, 10, 20, 0, tzinfo=UTC))  # already 11 March in Tokyo
    holder = make_user(full_name="Tomo Holder")
    holder.time_zone = "Asia/Tokyo"
    db.session.commit()
    certificate = certificates.issue_certificate(holder, make_track(), admin, "Recognised prior learning")
    login(client, holder)
    public = shown(client.get(f"/verify/{certificate.display_code}"))
    assert "10 March 2025" in public and "11 March 2025" not in public  # strangers read it: UTC
    own = shown(client.get("/certificates"))
    assert "11 March 2025" in own and "10 March 2025" not in own


def test_a_quiz_is_reopened_until_a_time_typed_on_the_instructors_clock(
    app, client, login, student, instructor, tmp_path
):
    from lms.quizzes.models import QuizOverride

    at(0)
    setup_quiz(tmp_path, student)
    instructor.time_zone = "America/New_York"
    db.session.commit()
    login(client, instructor)
    assert "Reopen until (America/New_York)" in shown(client.get("/staff/quizzes/basics-quiz/attempts"))
    response = client.post(
        "/staff/quizzes/basics-quiz/overrides",
        data={"student": student.email, "kind": "reopen", "until": "2030-01-08T09:00"},
        follow_redirects=True,
    )
    assert "until 2030-01-08 09:00 EST." in shown(response)
    override = db.session.execute(sa.select(QuizOverride)).scalar_one()
    assert override.until == datetime(2030, 1, 8, 14, 0, tzinfo=UTC)

"""The private calendar feed: made and replaced from the preferences page, read by calendar apps with no session,
valid RFC 5545 (parsed back with `icalendar`, every event's fields checked), and dead once replaced or stopped."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar

from lms import clock
from lms.certificates import operations as certificates
from lms.extensions import db
from lms.quizzes.models import Quiz, QuizVersion
from tests.fixtures.files import rows

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
BASE = "https://learn.example.org"


@pytest.mark.app_config(BASE_URL=BASE)
def test_the_feed_lists_due_dates_quiz_windows_and_expiry_and_validates(app, client, login, student, admin):
    clock.freeze(T0)
    track = rows.make_track()
    rows.make_assignment(track, due_days=21)
    rows.enroll(student, track)
    quiz = Quiz(
        slug="final-exam", title="Final Exam", track_id=track.id, kind="final", time_limit_seconds=600,
        pass_percent=60, draw=1, source_hash="x", opens_at=T0 + timedelta(days=7), closes_at=T0 + timedelta(days=14),
    )  # fmt: skip
    db.session.add(quiz)
    db.session.flush()
    db.session.add(QuizVersion(quiz_id=quiz.id, number=1, content_hash="x", questions=[]))
    db.session.commit()
    certificate = certificates.issue_certificate(student, track, admin, "Recognised prior learning")

    login(client, student)
    assert client.post("/notifications/calendar").status_code == 302
    page = client.get("/notifications/preferences").get_data(as_text=True)
    feed_url = re.search(r'value="(https://learn\.example\.org/calendar/[^"]+\.ics)"', page).group(1)

    calendar_app = client.application.test_client()  # no session: the token is the key
    response = calendar_app.get(feed_url[len(BASE) :])
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    assert b"\r\n" in response.data, "RFC 5545 lines end in CRLF"
    calendar = Calendar.from_ical(response.data)
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["PRODID"])
    events = {str(event["SUMMARY"]): event for event in calendar.walk("VEVENT")}
    assert set(events) == {
        "Due: Social Media Strategy Handbook",
        "Quiz open: Final Exam",
        "Certificate expires: Social Media Strategist",
    }
    uids = [str(event["UID"]) for event in events.values()]
    assert len(set(uids)) == 3 and all(uid.endswith("@learn.example.org") for uid in uids)
    for event in events.values():
        start, end = event.decoded("DTSTART"), event.decoded("DTEND")
        assert start.tzinfo is not None and end > start
        assert event.decoded("DTSTAMP") == T0
        assert str(event["URL"]).startswith(BASE) and str(event["DESCRIPTION"])
    assert events["Due: Social Media Strategy Handbook"].decoded("DTEND") == T0 + timedelta(days=21)
    assert events["Quiz open: Final Exam"].decoded("DTSTART") == quiz.opens_at
    assert events["Quiz open: Final Exam"].decoded("DTEND") == quiz.closes_at
    expiry = events["Certificate expires: Social Media Strategist"]
    assert expiry.decoded("DTEND") == certificate.current.expires_at
    assert str(expiry["URL"]) == f"{BASE}/certificates/{certificate.display_code}"

    # A new address kills the old one; stopping kills the new one too.
    client.post("/notifications/calendar")
    assert calendar_app.get(feed_url[len(BASE) :]).status_code == 404
    page = client.get("/notifications/preferences").get_data(as_text=True)
    new_url = re.search(r'value="(https://learn\.example\.org/calendar/[^"]+\.ics)"', page).group(1)
    assert new_url != feed_url and calendar_app.get(new_url[len(BASE) :]).status_code == 200
    client.post("/notifications/calendar/stop")
    assert calendar_app.get(new_url[len(BASE) :]).status_code == 404


def test_a_made_up_calendar_token_is_a_404(app, client):
    assert client.get("/calendar/not-a-real-token.ics").status_code == 404
    assert client.get(f"/calendar/{'x' * 300}.ics").status_code == 404

"""Each student's private calendar feed (RFC 5545, written with `icalendar`): handbook due dates, quiz windows and
certificate expiry, at an address whose random token is the only key, replaced or stopped on request."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from icalendar import Calendar, Event

from lms.clock import now_utc
from lms.extensions import db
from lms.notifications.models import CalendarFeed
from lms.notifications.sending import absolute, path_for

PRODID = "-//LMS//Training and certification//EN"


def calendar_feed_url(user_id: int) -> str | None:
    feed = db.session.get(CalendarFeed, user_id)
    return absolute(path_for("notifications.calendar_feed", token=feed.token)) if feed is not None else None


def renew_calendar_feed(user_id: int) -> str:
    """A new random address for the person's feed (the old one dies with it); returns the token."""
    token = secrets.token_urlsafe(32)
    feed = db.session.get(CalendarFeed, user_id)
    if feed is None:
        db.session.add(CalendarFeed(user_id=user_id, token=token, created_at=now_utc()))
    else:
        feed.token, feed.created_at = token, now_utc()
    db.session.commit()
    return token


def revoke_calendar_feed(user_id: int) -> None:
    db.session.execute(sa.delete(CalendarFeed).where(CalendarFeed.user_id == user_id))
    db.session.commit()


def calendar_for_token(token: str) -> bytes | None:
    """The feed of the person whose token this is, or None for a made-up or revoked one."""
    if not token or len(token) > 64:
        return None
    feed = db.session.execute(sa.select(CalendarFeed).where(CalendarFeed.token == token)).scalar_one_or_none()
    if feed is None:
        return None
    return build_calendar(feed.user_id, now_utc())


def _event(
    uid: str, summary: str, start: datetime, end: datetime, stamp: datetime, url: str, text: str
) -> Event:
    event = Event()
    event.add("uid", f"{uid}@{_host()}")
    event.add("dtstamp", stamp)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary)
    event.add("description", text)
    event.add("url", url)
    return event


def _host() -> str:
    return str(current_app.config["BASE_URL"]).split("://", 1)[-1].split("/", 1)[0] or "localhost"


def build_calendar(user_id: int, now: datetime) -> bytes:
    from lms.assignments.models import Assignment
    from lms.assignments.operations import student_deadlines
    from lms.certificates.models import Certificate, CertificateVersion
    from lms.courses.models import Enrollment, Track
    from lms.quizzes.models import Quiz

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", f"{current_app.config['ORGANIZATION_NAME']}: my dates")
    calendar.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})

    track_ids = list(
        db.session.execute(
            sa.select(Enrollment.track_id).where(Enrollment.user_id == user_id, Enrollment.left_at.is_(None))
        ).scalars()
    )
    assignments = db.session.execute(
        sa.select(Assignment, Track)
        .join(Track, Track.id == Assignment.track_id)
        .where(Assignment.track_id.in_(track_ids), Assignment.retired_at.is_(None))
    )
    for assignment, track in list(assignments):
        dates = student_deadlines(user_id, assignment)
        if dates is None:
            continue
        link = absolute(path_for("assignments.assignment", track_slug=track.slug, slug=assignment.slug))
        calendar.add_component(
            _event(
                f"handbook-{assignment.id}-user-{user_id}",
                f"Due: {assignment.title}",
                dates.due_at - timedelta(minutes=30),
                dates.due_at,
                now,
                link,
                f"Your handbook for {track.title} is due at this time.",
            )
        )
    quizzes = db.session.execute(
        sa.select(Quiz).where(
            Quiz.track_id.in_(track_ids),
            Quiz.retired_at.is_(None),
            sa.or_(Quiz.opens_at.is_not(None), Quiz.closes_at.is_not(None)),
        )
    ).scalars()
    for quiz in list(quizzes):
        link = absolute(path_for("quizzes.overview", slug=quiz.slug))
        start = quiz.opens_at or (quiz.closes_at - timedelta(hours=1))  # type: ignore[operator]
        end = quiz.closes_at or (start + timedelta(hours=1))
        calendar.add_component(
            _event(
                f"quiz-{quiz.id}",
                f"Quiz open: {quiz.title}",
                start,
                max(end, start + timedelta(minutes=1)),
                now,
                link,
                "The quiz can be taken between these times.",
            )
        )
    certificates = db.session.execute(
        sa.select(Certificate, CertificateVersion)
        .join(
            CertificateVersion,
            sa.and_(
                CertificateVersion.certificate_id == Certificate.id,
                CertificateVersion.number == Certificate.version_number,
            ),
        )
        .where(
            Certificate.user_id == user_id,
            Certificate.revoked_at.is_(None),
            CertificateVersion.expires_at.is_not(None),
        )
    )
    for certificate, version in list(certificates):
        if version.expires_at is None:
            continue
        link = absolute(path_for("certificates.holder", code=certificate.display_code))
        calendar.add_component(
            _event(
                f"certificate-{certificate.id}-expiry",
                f"Certificate expires: {version.track_title}",
                version.expires_at - timedelta(hours=1),
                version.expires_at,
                now,
                link,
                f"Certificate {certificate.display_code} expires. Renew it from its page before then.",
            )
        )
    return calendar.to_ical()

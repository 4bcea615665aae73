"""Access rules for notifications: each person's own list and choices, the public unsubscribe and calendar links
(their signed or random token is the key), and the admins' dead-letter list of background jobs."""

from __future__ import annotations

from typing import Any

from lms import jobs
from lms.extensions import db
from lms.notifications import operations
from tests.access_rules import LOGIN, REDIRECT, Rule, admin_only, everyone, signed_in

# The sample student's own notice: theirs to read; anyone else's request is answered as if it did not exist.
OWN_NOTICE = {"anonymous": LOGIN, "student": REDIRECT, "instructor": 404, "admin": 404}


def prepare(s: Any) -> None:
    notice = operations.notify(
        s.student.id, "regrade_answered", "Answered", "Declined.", link="/notifications"
    )
    job = jobs.enqueue("notifications.email", {"notification_id": notice.id})
    job.state, job.attempts, job.last_error = jobs.DEAD, 6, "SMTPServerDisconnected"
    db.session.commit()
    s.notice_id, s.dead_job_id = notice.id, job.id
    s.unsubscribe_token = operations.unsubscribe_token(s.student.id, "grade_released")
    s.calendar_token = operations.renew_calendar_feed(s.student.id)


RULES = [
    Rule("notifications.index", "GET", lambda s: "/notifications", signed_in(200)),
    Rule("notifications.unread", "GET", lambda s: "/notifications/unread.json", signed_in(200)),
    Rule("notifications.mark_read", "POST", lambda s: f"/notifications/{s.notice_id}/read", OWN_NOTICE),
    Rule("notifications.open_notice", "POST", lambda s: f"/notifications/{s.notice_id}/open", OWN_NOTICE),
    Rule("notifications.mark_all_read", "POST", lambda s: "/notifications/read-all", signed_in(REDIRECT)),
    Rule("notifications.preferences", "GET", lambda s: "/notifications/preferences", signed_in(200)),
    # A refused choice (no such channel) so the walk changes nothing: the page comes back with the message.
    Rule(
        "notifications.preferences",
        "POST",
        lambda s: "/notifications/preferences",
        signed_in(422),
        data=lambda s: {"certificate_issued": "carrier-pigeon", "regrade_requested": "carrier-pigeon"},
    ),
    Rule(
        "notifications.unsubscribe",
        "GET",
        lambda s: f"/notifications/unsubscribe/{s.unsubscribe_token}",
        everyone(200),
    ),
    Rule(
        "notifications.unsubscribe",
        "POST",
        lambda s: f"/notifications/unsubscribe/{s.unsubscribe_token}",
        everyone(200),
    ),
    Rule("notifications.new_calendar_feed", "POST", lambda s: "/notifications/calendar", signed_in(REDIRECT)),
    Rule(
        "notifications.stop_calendar_feed",
        "POST",
        lambda s: "/notifications/calendar/stop",
        signed_in(REDIRECT),
    ),
    Rule("notifications.calendar_feed", "GET", lambda s: f"/calendar/{s.calendar_token}.ics", everyone(200)),
    Rule("notifications.dead_jobs", "GET", lambda s: "/admin/jobs", admin_only(200)),
    Rule(
        "notifications.retry_job",
        "POST",
        lambda s: f"/admin/jobs/{s.dead_job_id}/retry",
        admin_only(REDIRECT),
    ),
    Rule(
        "notifications.discard_job",
        "POST",
        lambda s: f"/admin/jobs/{s.dead_job_id}/discard",
        admin_only(REDIRECT),
    ),
]

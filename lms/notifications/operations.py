"""The notifications feature's operations, for views, other features, the CLI and tests:

- `sending`: notify a person (the notice and its email job, in the caller's transaction), the email itself,
  the list, read marks, preferences, unsubscribe tokens;
- `reminders`: the periodic notices (handbooks due, certificates expiring, the staff's daily digest);
- `calendar`: the private iCal feed;
- the dead-letter list of the job queue (lms.jobs), for the admins' page.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from lms.errors import DomainError
from lms.extensions import db
from lms.jobs import dead_jobs, discard_dead, retry_dead
from lms.notifications.calendar import (
    build_calendar,
    calendar_feed_url,
    calendar_for_token,
    renew_calendar_feed,
    revoke_calendar_feed,
)
from lms.notifications.kinds import KINDS, Kind, kinds_for
from lms.notifications.models import OFF, Notification
from lms.notifications.reminders import (
    certificate_expiry_notices,
    handbook_due_reminders,
    staff_submission_digest,
)
from lms.notifications.sending import (
    build_email,
    mark_read,
    notifications_of,
    notify,
    notify_staff,
    preferences_of,
    read_unsubscribe_token,
    send_account_email,
    set_preference,
    unread_count,
    unsubscribe_token,
)

__all__ = [
    "KINDS",
    "Kind",
    "build_calendar",
    "build_email",
    "calendar_feed_url",
    "calendar_for_token",
    "certificate_expiry_notices",
    "dead_jobs",
    "discard_dead",
    "handbook_due_reminders",
    "kinds_for",
    "mark_read",
    "notifications_of",
    "notify",
    "notify_staff",
    "own_notification",
    "preferences_of",
    "read_unsubscribe_token",
    "renew_calendar_feed",
    "retry_dead",
    "revoke_calendar_feed",
    "save_preferences",
    "send_account_email",
    "set_preference",
    "staff_submission_digest",
    "unread_count",
    "unsubscribe",
    "unsubscribe_token",
]


def own_notification(user_id: int, notification_id: int) -> Notification | None:
    return db.session.execute(
        sa.select(Notification).where(
            Notification.id == notification_id, Notification.user_id == user_id, Notification.listed.is_(True)
        )
    ).scalar_one_or_none()


def save_preferences(user_id: int, role: str, form: dict[str, Any]) -> None:
    """Each kind the person can receive, set to the channel the form names (kinds left out keep theirs)."""
    try:
        for kind in kinds_for(role):
            if kind.can_turn_off and kind.name in form:
                set_preference(user_id, kind.name, str(form[kind.name]))
    except DomainError:
        db.session.rollback()  # all or nothing: the page shows the choices as they were
        raise
    db.session.commit()


def unsubscribe(user_id: int, kind: str) -> None:
    """The one-click unsubscribe: that kind off for that person (idempotent)."""
    set_preference(user_id, kind, OFF)
    db.session.commit()

"""Notifications: in-app notices and emails for what students and staff must hear of, their choices per kind,
one-click unsubscribe, the private calendar feed, and the admins' dead-letter list of background jobs."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from lms.accounts.models import Role


def register(app: Flask) -> None:
    """Add the blueprint, the bell's menu entry, the job handlers, the periodic notices and the event handlers."""
    from lms.jobs import register_handler, register_periodic
    from lms.navigation import NavItem, add_nav_item
    from lms.notifications import reminders
    from lms.notifications.sending import EMAIL_JOB, send_notification_email
    from lms.notifications.subscribers import subscribe_all
    from lms.notifications.views import bp

    app.register_blueprint(bp)
    add_nav_item(NavItem("Background jobs", "notifications.dead_jobs", frozenset({Role.ADMIN})))
    register_handler(EMAIL_JOB, send_notification_email)
    register_periodic("notifications.handbook_due", timedelta(days=1), reminders.handbook_due_reminders)
    register_periodic(
        "notifications.certificate_expiry", timedelta(days=1), reminders.certificate_expiry_notices
    )
    register_periodic("notifications.staff_digest", timedelta(days=1), reminders.staff_submission_digest)
    subscribe_all()

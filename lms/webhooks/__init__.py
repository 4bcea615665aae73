"""Webhooks: admins register endpoints and choose events; domain events become signed deliveries (Standard
Webhooks), written in the change's transaction and sent by the job queue with retries; a delivery log with
redelivery."""

from __future__ import annotations

from flask import Flask

from lms.accounts.models import Role


def register(app: Flask) -> None:
    """Add the blueprint, the admin menu entry, the delivery job's handler and the event subscriptions."""
    from lms.jobs import register_handler
    from lms.navigation import NavItem, add_nav_item
    from lms.webhooks.delivery import deliver
    from lms.webhooks.outbox import DELIVER_JOB, subscribe_all
    from lms.webhooks.views import bp

    app.register_blueprint(bp)
    add_nav_item(NavItem("Webhooks", "webhooks.index", frozenset({Role.ADMIN})))
    register_handler(DELIVER_JOB, deliver)
    subscribe_all()

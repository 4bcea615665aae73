"""Access rules for webhooks: every page and action is the admins' alone."""

from __future__ import annotations

from typing import Any

from lms.extensions import db
from lms.webhooks import operations
from lms.webhooks.models import WebhookDelivery
from tests.access_rules import REDIRECT, Rule, admin_only


def prepare(s: Any) -> None:
    endpoint = operations.create_endpoint(s.admin.id, "http://127.0.0.1:9/hooks", "HR", ["enrolment.created"])
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        message_id="msg_access_rules",
        event_type="enrolment.created",
        payload='{"data":{},"timestamp":"2026-01-01T00:00:00Z","type":"enrolment.created"}',
    )
    db.session.add(delivery)
    db.session.commit()
    s.webhook_id, s.webhook_delivery_id = endpoint.id, delivery.id


RULES = [
    Rule("webhooks.index", "GET", lambda s: "/admin/webhooks", admin_only(200)),
    # No URL and no events: refused with the form (the walk registers nothing).
    Rule("webhooks.create", "POST", lambda s: "/admin/webhooks", admin_only(422), data=lambda s: {"url": ""}),
    Rule("webhooks.endpoint", "GET", lambda s: f"/admin/webhooks/{s.webhook_id}", admin_only(200)),
    Rule("webhooks.enable", "POST", lambda s: f"/admin/webhooks/{s.webhook_id}/enable", admin_only(REDIRECT)),
    Rule(
        "webhooks.disable", "POST", lambda s: f"/admin/webhooks/{s.webhook_id}/disable", admin_only(REDIRECT)
    ),
    Rule("webhooks.rotate", "POST", lambda s: f"/admin/webhooks/{s.webhook_id}/rotate", admin_only(200)),
    Rule("webhooks.delete", "POST", lambda s: f"/admin/webhooks/{s.webhook_id}/delete", admin_only(REDIRECT)),
    Rule(
        "webhooks.delivery",
        "GET",
        lambda s: f"/admin/webhooks/deliveries/{s.webhook_delivery_id}",
        admin_only(200),
    ),
    Rule(
        "webhooks.redeliver",
        "POST",
        lambda s: f"/admin/webhooks/deliveries/{s.webhook_delivery_id}/redeliver",
        admin_only(REDIRECT),
    ),
]

"""The outbox: domain events become delivery rows and their jobs, inside the transaction of the change
(IN_TRANSACTION handlers), so a rolled-back change sends nothing and a committed one is never without its
deliveries. The payload is built here, once, and stored: every attempt and redelivery sends the same bytes."""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa

from lms import events, jobs
from lms.audit import record_event
from lms.clock import now_utc
from lms.errors import DomainError
from lms.extensions import db
from lms.webhooks.models import DELIVERED, FAILED, PENDING, WebhookDelivery, WebhookEndpoint
from lms.webhooks.payloads import BUILDERS, envelope

DELIVER_JOB = "webhooks.deliver"


def new_message_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def subscribed_endpoints(event_type: str) -> list[WebhookEndpoint]:
    """Live endpoints that chose `event_type` (a handful at most: filtered here, on either database)."""
    live = db.session.execute(
        sa.select(WebhookEndpoint)
        .where(WebhookEndpoint.enabled.is_(True), WebhookEndpoint.deleted_at.is_(None))
        .order_by(WebhookEndpoint.id)
    ).scalars()
    return [endpoint for endpoint in live if event_type in (endpoint.events or [])]


def on_domain_event(event: events.Event) -> None:
    """Write one delivery per subscribed endpoint and enqueue its job, in the emitter's transaction."""
    event_type, build = BUILDERS[type(event)]
    endpoints = subscribed_endpoints(event_type)
    if not endpoints:
        return
    data = build(event)
    if data is None:  # the row the event names is gone (cannot happen inside its own transaction)
        return
    now = now_utc()
    payload = envelope(event_type, now, data)
    for endpoint in endpoints:
        delivery = WebhookDelivery(
            endpoint_id=endpoint.id,
            message_id=new_message_id(),
            event_type=event_type,
            payload=payload,
            state=PENDING,
            attempts=0,
            round=1,
            created_at=now,
        )
        db.session.add(delivery)
        db.session.flush()
        jobs.enqueue(DELIVER_JOB, {"delivery_id": delivery.id, "round": 1})


def redeliver(actor_id: int, delivery_id: int) -> WebhookDelivery:
    """Send a delivery again (committed): the same payload and webhook-id, a fresh timestamp and signature."""
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None:
        raise DomainError("There is no such delivery.")
    if delivery.endpoint.deleted_at is not None:
        raise DomainError("Its endpoint was deleted; nothing can be sent to it any more.")
    if not delivery.endpoint.enabled:
        raise DomainError("Its endpoint is disabled: enable it first, then redeliver.")
    delivery.round += 1
    delivery.state = PENDING
    db.session.flush()
    jobs.enqueue(DELIVER_JOB, {"delivery_id": delivery.id, "round": delivery.round})
    record_event(
        actor_id, "webhook.redelivered", "webhook_delivery", delivery.id, message_id=delivery.message_id
    )
    db.session.commit()
    return delivery


def on_job_dead(event: events.JobDead) -> None:
    """The queue gave up on a delivery job (every retry failed): its delivery failed, unless a redelivery since
    owns it."""
    if event.kind != DELIVER_JOB:
        return
    payload: dict[str, Any] = (
        db.session.execute(
            sa.select(jobs.Job.payload).where(jobs.Job.id == event.job_id)
        ).scalar_one_or_none()
        or {}
    )
    delivery = db.session.get(WebhookDelivery, payload.get("delivery_id", 0))
    if delivery is None or delivery.round != payload.get("round") or delivery.state == DELIVERED:
        return
    delivery.state = FAILED


def subscribe_all() -> None:
    for event_type in BUILDERS:
        events.subscribe(event_type, on_domain_event)
    events.subscribe(events.JobDead, on_job_dead)

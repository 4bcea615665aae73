"""Registering endpoints: create with a secret of ours (shown once), enable or disable, rotate the secret, delete
(softly: the delivery history stays). Each change is audited; no audit entry ever holds a secret."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from lms.audit import record_event
from lms.clock import now_utc
from lms.errors import DomainError
from lms.extensions import db
from lms.webhooks.models import EVENT_TYPES, WebhookDelivery, WebhookEndpoint
from lms.webhooks.safety import check_target

MAX_DESCRIPTION = 200
SECRET_BYTES = 32  # 256 bits, the HMAC-SHA256 key size
ROTATION_OVERLAP = timedelta(hours=24)  # after a rotation, the old secret also signs for this long


def new_secret() -> str:
    """A Standard Webhooks secret: whsec_ and the base64 of random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii")


def _clean_events(chosen: list[str]) -> list[str]:
    unknown = sorted(set(chosen) - set(EVENT_TYPES))
    if unknown:
        raise DomainError(f"Unknown event type: {', '.join(unknown)}.", field="events")
    if not chosen:
        raise DomainError("Choose at least one event to send.", field="events")
    return [event for event in EVENT_TYPES if event in chosen]


def _clean_description(description: str) -> str:
    description = " ".join((description or "").split())
    if len(description) > MAX_DESCRIPTION:
        raise DomainError(f"Keep the description under {MAX_DESCRIPTION} characters.", field="description")
    return description


def create_endpoint(
    actor_id: int, url: str, description: str, chosen: list[str], at: datetime | None = None
) -> WebhookEndpoint:
    """Register an endpoint (committed). Its `secret` is to be shown to the admin now, and never again."""
    events = _clean_events(list(chosen))
    description = _clean_description(description)
    target = check_target(url)
    endpoint = WebhookEndpoint(
        url=target.url,
        description=description,
        events=events,
        secret=new_secret(),
        enabled=True,
        created_at=at or now_utc(),
        created_by_id=actor_id,
    )
    db.session.add(endpoint)
    db.session.flush()
    record_event(
        actor_id, "webhook.created", "webhook_endpoint", endpoint.id, url=endpoint.url, events=events
    )
    db.session.commit()
    return endpoint


def get_endpoint(endpoint_id: int, *, include_deleted: bool = True) -> WebhookEndpoint | None:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None or (endpoint.deleted_at is not None and not include_deleted):
        return None
    return endpoint


def list_endpoints(*, include_deleted: bool = False) -> list[WebhookEndpoint]:
    statement = sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id)
    if not include_deleted:
        statement = statement.where(WebhookEndpoint.deleted_at.is_(None))
    return list(db.session.execute(statement).scalars())


def _live(endpoint_id: int) -> WebhookEndpoint:
    endpoint = get_endpoint(endpoint_id)
    if endpoint is None:
        raise DomainError("There is no such webhook endpoint.")
    if endpoint.deleted_at is not None:
        raise DomainError("That endpoint was deleted; register a new one.")
    return endpoint


def set_enabled(actor_id: int, endpoint_id: int, enabled: bool) -> WebhookEndpoint:
    """Switch sending on or off (committed). A disabled endpoint gets no new deliveries."""
    endpoint = _live(endpoint_id)
    if endpoint.enabled == enabled:
        return endpoint
    endpoint.enabled = enabled
    action = "webhook.enabled" if enabled else "webhook.disabled"
    record_event(actor_id, action, "webhook_endpoint", endpoint.id, url=endpoint.url)
    db.session.commit()
    return endpoint


def rotate_secret(actor_id: int, endpoint_id: int, at: datetime | None = None) -> WebhookEndpoint:
    """A new secret (committed, to be shown once). For ROTATION_OVERLAP, deliveries carry a signature by each."""
    endpoint = _live(endpoint_id)
    at = at or now_utc()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = at + ROTATION_OVERLAP
    endpoint.secret = new_secret()
    endpoint.secret_rotated_at = at
    record_event(actor_id, "webhook.secret_rotated", "webhook_endpoint", endpoint.id, url=endpoint.url)
    db.session.commit()
    return endpoint


def delete_endpoint(actor_id: int, endpoint_id: int, at: datetime | None = None) -> WebhookEndpoint:
    """Stop and hide the endpoint (committed); its deliveries and their attempts stay for the record."""
    endpoint = _live(endpoint_id)
    endpoint.deleted_at = at or now_utc()
    endpoint.enabled = False
    endpoint.previous_secret = None
    record_event(actor_id, "webhook.deleted", "webhook_endpoint", endpoint.id, url=endpoint.url)
    db.session.commit()
    return endpoint


def deliveries_of(endpoint_id: int, limit: int = 100) -> list[WebhookDelivery]:
    """The endpoint's latest deliveries, newest first."""
    return list(
        db.session.execute(
            sa.select(WebhookDelivery)
            .where(WebhookDelivery.endpoint_id == endpoint_id)
            .order_by(WebhookDelivery.id.desc())
            .limit(limit)
        ).scalars()
    )


def get_delivery(delivery_id: int) -> WebhookDelivery | None:
    return db.session.get(WebhookDelivery, delivery_id)

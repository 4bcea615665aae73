"""Webhook endpoints (where to send, which events, the signing secret), the deliveries written in the transaction of
the change (an outbox: the payload's exact bytes and its webhook-id are fixed then), and each attempt to send one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.clock import now_utc
from lms.database import UTCDateTime
from lms.extensions import db

# The event types an endpoint may subscribe to, in the order the admin page lists them.
EVENT_TYPES = (
    "certificate.issued",
    "certificate.suspended",
    "certificate.revoked",
    "certificate.reissued",
    "grade.released",
    "enrolment.created",
    "quiz.attempt.submitted",
)

PENDING = "pending"  # waiting for its first attempt (or a redelivery's)
RETRYING = "retrying"  # an attempt failed; the job queue tries again after its backoff
DELIVERED = "delivered"  # the endpoint answered 2xx
FAILED = "failed"  # every attempt failed, or it could not be sent at all (endpoint disabled, address refused)
DELIVERY_STATES = (PENDING, RETRYING, DELIVERED, FAILED)


class WebhookEndpoint(db.Model):
    """A receiver an admin registered. Deleting one is soft (`deleted_at`): its delivery history stays."""

    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    events: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # The Standard Webhooks secret (whsec_<base64>): kept as is, since every delivery is signed with it.
    secret: Mapped[str] = mapped_column(sa.String(100))
    # After a rotation, deliveries are signed with both for a while, so receivers can switch without a gap.
    previous_secret: Mapped[str | None] = mapped_column(sa.String(100))
    previous_secret_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    secret_rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def secret_hint(self) -> str:
        """What the pages show after creation: the prefix and the last four characters."""
        return f"whsec_…{self.secret[-4:]}"

    @property
    def live(self) -> bool:
        return self.enabled and self.deleted_at is None


class WebhookDelivery(db.Model):
    """One message to one endpoint. `payload` holds the exact JSON text sent (built when the event happened);
    `message_id` is its webhook-id, the same at every attempt and redelivery. `round` counts redeliveries: a job
    carries the round it was enqueued for, so an older job that runs late sends nothing."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoints.id"))  # indexed with created_at
    message_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    event_type: Mapped[str] = mapped_column(sa.String(40))
    payload: Mapped[str] = mapped_column(sa.Text)
    state: Mapped[str] = mapped_column(sa.String(12), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    round: Mapped[int] = mapped_column(default=1)
    last_status_code: Mapped[int | None]
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    endpoint: Mapped[WebhookEndpoint] = relationship()
    attempt_log: Mapped[list[WebhookAttempt]] = relationship(
        back_populates="delivery", order_by="WebhookAttempt.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint(sa.column("state").in_(DELIVERY_STATES), name="state"),
        sa.Index("ix_webhook_deliveries_endpoint_created", "endpoint_id", "created_at"),
    )

    @property
    def data(self) -> dict[str, Any]:
        import json

        return json.loads(self.payload)  # type: ignore[no-any-return]


class WebhookAttempt(db.Model):
    """One try at sending a delivery: when, the answer's status code and first bytes, or the error."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    round: Mapped[int] = mapped_column(default=1)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    status_code: Mapped[int | None]
    succeeded: Mapped[bool] = mapped_column(default=False)
    response_excerpt: Mapped[str] = mapped_column(sa.String(500), default="")
    error: Mapped[str] = mapped_column(sa.String(500), default="")
    duration_ms: Mapped[int | None]

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="attempt_log")

"""Certificates, their versions (reissues and renewals keep every earlier one) and every state change."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from lms.accounts.models import User
from lms.certificates.codes import format_code
from lms.clock import now_utc
from lms.courses.models import Track
from lms.database import UTCDateTime
from lms.extensions import db


class CertificateState(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # under review: the completion rule that issued it no longer holds
    REVOKED = "revoked"


# The states in which a student holds the track's certificate (at most one at a time, see the index below).
HELD_STATES = (CertificateState.ACTIVE.value, CertificateState.SUSPENDED.value)


class Status(enum.StrEnum):
    """What a verifier is told: the state, with expiry worked out at the time of asking."""

    VALID = "valid"
    SUSPENDED = "suspended"
    EXPIRED = "expired"
    REVOKED = "revoked"
    NOT_FOUND = "not_found"


class EventAction(enum.StrEnum):
    ISSUED = "issued"
    REISSUED = "reissued"
    RENEWED = "renewed"
    SUSPENDED = "suspended"
    RESTORED = "restored"
    REVOKED = "revoked"


class Certificate(db.Model):
    """One certificate: its public code never changes; its current version is what the code shows."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)  # canonical: 7KQ2M9XD4TRWH
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    track_id: Mapped[int] = mapped_column(sa.ForeignKey("tracks.id"), index=True)
    state: Mapped[str] = mapped_column(sa.String(16), default=CertificateState.ACTIVE.value)
    version_number: Mapped[int] = mapped_column(default=1)  # the current version
    # Salt for the hashed recipient identity of the Open Badges assertion (random per certificate).
    recipient_salt: Mapped[str] = mapped_column(sa.String(32))
    verification_count: Mapped[int] = mapped_column(default=0, server_default="0")
    last_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(sa.Text)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Suspended (under review) since when, and why: the part of the completion rule that stopped holding.
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    suspended_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Staff restored it while its basis did not hold: the rule no longer suspends it until the basis holds again.
    upheld_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    track: Mapped[Track] = relationship()
    current: Mapped[CertificateVersion] = relationship(
        primaryjoin="and_(CertificateVersion.certificate_id == Certificate.id, "
        "CertificateVersion.number == Certificate.version_number)",
        viewonly=True,
        uselist=False,
    )
    versions: Mapped[list[CertificateVersion]] = relationship(
        back_populates="certificate", order_by="CertificateVersion.number"
    )
    events: Mapped[list[CertificateEvent]] = relationship(
        back_populates="certificate", order_by="CertificateEvent.id"
    )

    __table_args__ = (
        sa.CheckConstraint("state IN ('active', 'suspended', 'revoked')", name="state_known"),
        sa.CheckConstraint(
            "(state = 'revoked') = (revoked_at IS NOT NULL AND revoked_reason IS NOT NULL)",
            name="revocation_complete",
        ),
        sa.CheckConstraint(
            "(state = 'suspended') = (suspended_at IS NOT NULL AND suspended_reason IS NOT NULL)",
            name="suspension_complete",
        ),
        # Exactly one held (active or suspended) certificate per student per track, whatever the race: the
        # database decides.
        sa.Index(
            "uq_certificates_one_held_per_track",
            "user_id",
            "track_id",
            unique=True,
            sqlite_where=sa.text("state IN ('active', 'suspended')"),
            postgresql_where=sa.text("state IN ('active', 'suspended')"),
        ),
        # The staff list (newest first) and its review queue (suspended, oldest suspension first, and their count).
        sa.Index("ix_certificates_created", "created_at", "id"),
        sa.Index("ix_certificates_state_suspended", "state", "suspended_at", "id"),
    )

    @property
    def display_code(self) -> str:
        return format_code(self.code)

    @property
    def is_revoked(self) -> bool:
        return self.state == CertificateState.REVOKED.value

    @property
    def is_suspended(self) -> bool:
        return self.state == CertificateState.SUSPENDED.value

    def status_at(self, at: datetime) -> Status:
        return status_of(self.state, self.current.expires_at, at)


def status_of(state: str, expires_at: datetime | None, at: datetime) -> Status:
    """A certificate's status at a moment, from its state and its current version's expiry.

    A suspended certificate says SUSPENDED even once past its expiry: whatever else is true, it is never VALID."""
    if state == CertificateState.REVOKED.value:
        return Status.REVOKED
    if state == CertificateState.SUSPENDED.value:
        return Status.SUSPENDED
    if expires_at is not None and expires_at <= at:
        return Status.EXPIRED
    return Status.VALID


class CertificateVersion(db.Model):
    """What a certificate says, as issued: a name correction, a template change or a renewal adds a version."""

    __tablename__ = "certificate_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates.id"), index=True)
    number: Mapped[int]
    holder_name: Mapped[str] = mapped_column(sa.String(200))
    track_title: Mapped[str] = mapped_column(sa.String(200))
    certifies: Mapped[str] = mapped_column(sa.Text)
    # What the holder completed, as the track stood then: module titles and the assessed assignment's title.
    modules: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    assessed_work: Mapped[str | None] = mapped_column(sa.String(200))
    # The track's completion rule as it stood at this version (what a later review re-checks, not today's rule).
    rule: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # "completion": issued because the track's rule was met; "manual": awarded by staff with a reason. The public
    # page only claims completed modules and assessed work for the first.
    basis: Mapped[str] = mapped_column(sa.String(16), default="completion", server_default="completion")
    template: Mapped[str] = mapped_column(sa.String(40), default="classic")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    # The PDF, generated once for this version and kept (never regenerated, so what was handed out stays).
    pdf: Mapped[bytes | None] = deferred(mapped_column(sa.LargeBinary))
    pdf_generated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    certificate: Mapped[Certificate] = relationship(back_populates="versions")

    __table_args__ = (
        sa.UniqueConstraint("certificate_id", "number"),
        sa.CheckConstraint("number >= 1", name="number_positive"),
        sa.CheckConstraint("basis IN ('completion', 'manual')", name="basis_known"),
        sa.CheckConstraint("expires_at IS NULL OR expires_at > issued_at", name="expires_after_issue"),
    )


class CertificateEvent(db.Model):
    """Every state change of a certificate, with who (None: the platform itself, `data["automatic"]`), when, why."""

    __tablename__ = "certificate_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(16))
    version_number: Mapped[int]
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    reason: Mapped[str] = mapped_column(sa.Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    certificate: Mapped[Certificate] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    __table_args__ = (
        sa.CheckConstraint(
            "action IN ('issued', 'reissued', 'renewed', 'suspended', 'restored', 'revoked')",
            name="action_known",
        ),
    )

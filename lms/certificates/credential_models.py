"""What the Open Badges 3.0 credentials keep: each certificate's places in the status lists, the signed credential
of each certificate version, and the status list credentials as last signed."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.certificates.models import Certificate
from lms.clock import now_utc
from lms.database import UTCDateTime
from lms.extensions import db


class StatusPurpose(enum.StrEnum):
    """What a set bit means in a Bitstring Status List (https://www.w3.org/TR/vc-bitstring-status-list/)."""

    REVOCATION = "revocation"
    SUSPENSION = "suspension"


class CredentialStatusEntry(db.Model):
    """A certificate's place in one status list: the list's number and a random index in it, never in issue order.

    The revocation bit follows the certificate's state; the suspension bit is `suspended` (set and cleared by
    lms.certificates.status_list.set_suspension).
    """

    __tablename__ = "credential_status_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(sa.ForeignKey("certificates.id"))
    purpose: Mapped[str] = mapped_column(sa.String(16))
    list_number: Mapped[int]
    list_index: Mapped[int]
    suspended: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (
        sa.UniqueConstraint("certificate_id", "purpose"),
        sa.UniqueConstraint("purpose", "list_number", "list_index"),
        sa.CheckConstraint("purpose IN ('revocation', 'suspension')", name="purpose_known"),
        sa.CheckConstraint("list_number >= 1 AND list_index >= 0", name="place_in_range"),
        sa.CheckConstraint("purpose = 'suspension' OR NOT suspended", name="suspended_in_suspension_list"),
        # The suspended places alone, for the suspension lists (see REVOKED_CERTIFICATES below).
        sa.Index(
            "ix_credential_status_entries_suspended",
            "certificate_id",
            sqlite_where=sa.text("suspended = 1"),
            postgresql_where=sa.text("suspended"),
        ),
    )


class SignedCredential(db.Model):
    """A certificate version's OpenBadgeCredential, signed once and then served exactly as stored."""

    __tablename__ = "signed_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(sa.ForeignKey("certificate_versions.id"), unique=True)
    issuer: Mapped[str] = mapped_column(sa.String(300))  # the DID it names (a new public address signs anew)
    verification_method: Mapped[str] = mapped_column(sa.String(400))
    document: Mapped[str] = mapped_column(sa.Text)  # the JSON exactly as served
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class StatusListCredential(db.Model):
    """A status list's BitstringStatusListCredential as last signed, with the digest of the bits it says."""

    __tablename__ = "credential_status_lists"

    id: Mapped[int] = mapped_column(primary_key=True)
    purpose: Mapped[str] = mapped_column(sa.String(16))
    list_number: Mapped[int]
    bits_digest: Mapped[str] = mapped_column(sa.String(64))  # sha256 of the issuer and the set indexes
    document: Mapped[str] = mapped_column(sa.Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (
        sa.UniqueConstraint("purpose", "list_number"),
        sa.CheckConstraint("purpose IN ('revocation', 'suspension')", name="purpose_known"),
    )


# The revocation lists read the revoked certificates at every request: this index on the certificates table holds
# the revoked ones alone, so that read costs as little as there are revocations, however many certificates exist.
REVOKED_CERTIFICATES = sa.Index(
    "ix_certificates_revoked",
    Certificate.id,
    sqlite_where=sa.text("state = 'revoked'"),
    postgresql_where=sa.text("state = 'revoked'"),
)

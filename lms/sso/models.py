"""The link between an account and a person at the organization's OpenID Connect provider (issuer + subject)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.clock import now_utc
from lms.database import UTCDateTime
from lms.extensions import db


class SsoIdentity(db.Model):
    """One provider's person (`sub` is unique and never reassigned within its issuer) signs in as `user_id`.

    Later sign-ins find the account by issuer and subject, whatever address the provider sends then."""

    __tablename__ = "sso_identities"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(sa.String(255))
    subject: Mapped[str] = mapped_column(sa.String(255))
    email: Mapped[str] = mapped_column(sa.String(254))  # the address the provider last sent, for the record
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    last_sign_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    __table_args__ = (sa.UniqueConstraint("issuer", "subject"),)

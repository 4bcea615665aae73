"""API tokens (admins create them, with scopes and an expiry) and the compact log of every API request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.accounts.models import User
from lms.clock import now_utc
from lms.database import UTCDateTime
from lms.extensions import db


class ApiToken(db.Model):
    """A bearer token: only the SHA-256 of the secret is kept (the secret is shown once, at creation)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    # The first characters of the token ("lms_AbCd1234"), shown in lists so a person can tell tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # The admin who created it: requests act as this account, and stop working if it is deactivated or demoted.
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])

    def usable_at(self, at: datetime) -> bool:
        return self.revoked_at is None and at < self.expires_at

    def state_at(self, at: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        return "active" if at < self.expires_at else "expired"


class ApiRequest(db.Model):
    """One API request made with a valid token: who (token and its owner), what (method, path) and the status.
    Its own table, not audit_events: every read is logged here, and reads would drown the trail of changes."""

    __tablename__ = "api_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    token_id: Mapped[int] = mapped_column(sa.ForeignKey("api_tokens.id", ondelete="CASCADE"))
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="SET NULL"))
    method: Mapped[str] = mapped_column(sa.String(8))
    path: Mapped[str] = mapped_column(sa.String(300))
    status: Mapped[int]
    request_id: Mapped[str | None] = mapped_column(sa.String(64))

    __table_args__ = (sa.Index("ix_api_requests_token_at", "token_id", "at"),)

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "status": self.status}

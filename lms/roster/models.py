"""A previewed bulk-enrolment file, kept on the server until it is applied (or a day passes), so that what the
admin saw in the preview is exactly what the Apply button applies."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from lms.clock import now_utc
from lms.database import UTCDateTime
from lms.extensions import db


class StagedRoster(db.Model):
    __tablename__ = "staged_rosters"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), unique=True)  # from secrets, carried by the Apply form
    actor_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(sa.String(64))
    filename: Mapped[str] = mapped_column(sa.String(255), default="")
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc, index=True)

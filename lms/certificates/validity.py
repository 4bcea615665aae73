"""How long a certificate holds: its expiry date from the track's validity, and when renewal opens."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta

from lms.certificates.models import Certificate
from lms.courses.models import Track

RENEWAL_WINDOW = timedelta(days=60)  # the holder may renew from 60 days before expiry on


def add_months(at: datetime, months: int) -> datetime:
    """The same day and time `months` later (the month's last day when it has fewer days)."""
    month_index = at.month - 1 + months
    year, month = at.year + month_index // 12, month_index % 12 + 1
    day = min(at.day, calendar.monthrange(year, month)[1])
    return at.replace(year=year, month=month, day=day)


def expiry_for(track: Track, issued_at: datetime) -> datetime | None:
    """When a certificate issued at `issued_at` expires: Track.validity_months later (0 or less: never)."""
    if not track.validity_months or track.validity_months <= 0:
        return None
    return add_months(issued_at, track.validity_months)


def in_renewal_window(certificate: Certificate, at: datetime) -> bool:
    """Whether the holder may renew at `at`: not revoked or suspended, expiring, and at most RENEWAL_WINDOW before
    expiry."""
    expires = certificate.current.expires_at
    return (
        not certificate.is_revoked
        and not certificate.is_suspended
        and expires is not None
        and at >= expires - RENEWAL_WINDOW
    )

"""Times shown to people: kept in UTC, shown in the reader's own time zone, always with the zone named.

The reader's zone is the signed-in account's setting (`User.time_zone`), else the zone the browser told us in the
`tz` cookie (set by lms/static/js/timezone.js from `Intl.DateTimeFormat().resolvedOptions().timeZone`), else UTC.
Outside a request (the command line, jobs) the reader is nobody in particular: UTC. Rules never depend on the zone:
only the words that show a time do (`format_time`), the way Flask-Babel's `format_datetime` follows the request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import Flask, g, has_request_context, request
from markupsafe import Markup

COOKIE = "tz"
UTC_ZONE = ZoneInfo("UTC")

# How each kind of time reads. The zone's abbreviation follows every style with a time of day; a day alone names
# its zone in the element's title (a day in Berlin can be another day in UTC, but "05 December 2026 CET" reads oddly).
STYLES = {
    "datetime": "%d %b %Y, %H:%M",  # 07 Apr 2025, 11:00 CEST: due dates, hand-ins, history
    "on": "%Y-%m-%d at %H:%M",  # 2030-01-07 at 11:00 CET: a quiz's windows, in sentences
    "stamp": "%Y-%m-%d %H:%M",  # 2030-01-07 11:00 CET: tables of staff pages
    "stamp_seconds": "%Y-%m-%d %H:%M:%S",  # to the second: quiz attempts for staff
    "time": "%H:%M:%S",  # 21:39:35 CET: a running attempt's deadline, to the second
    "date": "%d %B %Y",  # 05 December 2026
    "day": "%Y-%m-%d",  # 2026-12-05: compact tables
}
WITHOUT_TIME_OF_DAY = frozenset({"date", "day"})
_TIME_ELEMENT = Markup('<time datetime="%s" title="%s">%s</time>')


@cache
def zone_names() -> tuple[str, ...]:
    """Every IANA zone this machine knows (the tzdata package guarantees them), sorted; no legacy aliases
    without a slash but UTC."""
    return tuple(sorted(name for name in available_timezones() if "/" in name or name == "UTC"))


@cache
def _known() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_or_none(name: object) -> ZoneInfo | None:
    """The zone an IANA name names, or None for anything else (empty, unknown, a path, too long)."""
    if not isinstance(name, str) or not name or len(name) > 64 or name not in _known():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # pragma: no cover - listed but unreadable
        return None


def reader_zone() -> ZoneInfo:
    """The zone of the person this request answers (kept for the request); UTC outside a request."""
    return _reader()[0]


def reader_zone_source() -> str:
    """Where the reader's zone came from: "account" (their choice), "browser" (the tz cookie) or "default" (UTC)."""
    return _reader()[1]


def _reader() -> tuple[ZoneInfo, str]:
    if not has_request_context():
        return UTC_ZONE, "default"
    found = g.get("reader_zone")
    if found is None:
        found = g.reader_zone = _zone_of_request()
    return found


def _zone_of_request() -> tuple[ZoneInfo, str]:
    from flask_login import current_user  # the signed-in account, loaded only when a time is shown

    chosen = zone_or_none(getattr(current_user, "time_zone", None))
    if chosen is not None:
        return chosen, "account"
    browser = zone_or_none(request.cookies.get(COOKIE))
    return (browser, "browser") if browser is not None else (UTC_ZONE, "default")


def zone_label(zone: ZoneInfo, at: datetime) -> str:
    """The zone's abbreviation at that instant (CET, CEST, EST, UTC); 'UTC-03:00' where it has none of letters."""
    return _label_of(at.astimezone(zone))


def _label_of(local: datetime) -> str:
    """zone_label of a time already on its zone's clock."""
    abbreviation = local.tzname() or ""
    if abbreviation.isalpha():
        return abbreviation
    offset = local.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def format_time(value: datetime | None, style: str = "datetime", zone: ZoneInfo | None = None) -> str:
    """An aware UTC instant as words in `zone` (default: the reader's), the zone named: '07 Apr 2025, 11:00
    CEST'. Empty for no time."""
    if value is None:
        return ""
    return _words(_aware(value).astimezone(zone or reader_zone()), style)


def _words(local: datetime, style: str) -> str:
    """format_time of a time already on the reader's clock."""
    text = local.strftime(STYLES[style])
    return text if style in WITHOUT_TIME_OF_DAY else f"{text} {_label_of(local)}"


def format_for(time_zone: str | None, value: datetime | None, style: str = "datetime") -> str:
    """format_time on the clock of a person who is not the reader (an email's recipient): their account's zone, else
    UTC (a browser's zone is known only while they read a page)."""
    return format_time(value, style, zone_or_none(time_zone) or UTC_ZONE)


def time_element(value: datetime | None, style: str = "datetime", zone: ZoneInfo | None = None) -> Markup:
    """The Jinja filter `local_time`: format_time in a <time> element that keeps the exact instant in UTC
    (machine-readable, and for scripts) and names the zone in full in its title."""
    if value is None:
        return Markup("")
    zone = zone or reader_zone()
    instant = _aware(value).astimezone(UTC)
    local = instant.astimezone(zone)  # converted once for both the words and the title (lists show dozens)
    machine = instant.isoformat(timespec="seconds").replace("+00:00", "Z")
    title = f"{_words(local, 'datetime')} ({zone.key})"
    return _TIME_ELEMENT % (machine, title, _words(local, style))  # (Markup's % escapes each part)


def public_time(value: datetime | None, style: str = "date") -> Markup:
    """The Jinja filter `utc_time`, for pages read by strangers (a certificate's public verification page, its
    PDF, share cards): the reader is not the holder, so these stay in UTC, named."""
    return time_element(value, style, UTC_ZONE)


def from_wall_time(value: datetime | None, zone: ZoneInfo | None = None) -> datetime | None:
    """A date and time a person typed (naive, on their clock in `zone`, default the reader's) as aware UTC. A time
    the clocks skip or repeat at a change of offset is taken as the first (fold=0)."""
    if value is None:
        return None
    return value.replace(tzinfo=zone or reader_zone()).astimezone(UTC)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def init_app(app: Flask) -> None:
    app.add_template_filter(time_element, "local_time")
    app.add_template_filter(public_time, "utc_time")
    app.add_template_global(reader_zone, "reader_zone")
    app.add_template_global(reader_zone_source, "reader_zone_source")
    app.add_template_global(zone_label, "zone_label")

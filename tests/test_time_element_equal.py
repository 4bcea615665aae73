"""The `local_time` filter (lms.timezones.time_element), which lists call once per row, converts a time once for its
words and its title: it must give exactly the element the plain composition of format_time gives (its slow path,
kept here), for every style, across changes of offset, in zones without letters, with naive and aware inputs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from markupsafe import Markup, escape

from lms.timezones import STYLES, format_time, time_element

ZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Sao_Paulo",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
]


def composed(value: datetime | None, style: str, zone: ZoneInfo) -> Markup:
    """time_element as it was written first: format_time twice, each converting again."""
    if value is None:
        return Markup("")
    instant = (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(UTC)
    machine = instant.isoformat(timespec="seconds").replace("+00:00", "Z")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(
        machine,
        f"{format_time(instant, 'datetime', zone)} ({zone.key})",
        escape(format_time(instant, style, zone)),
    )


def instants() -> list[datetime]:
    """Every half hour around Berlin's and New York's changes of 2026, Lord Howe's half-hour one, and some plain
    days, with seconds and microseconds the machine-readable form must drop."""
    found = []
    for start in (datetime(2026, 3, 28, 20, tzinfo=UTC), datetime(2026, 10, 31, 20, tzinfo=UTC),
                  datetime(2026, 11, 1, 0, tzinfo=UTC), datetime(2026, 4, 4, 12, tzinfo=UTC)):  # fmt: skip
        found += [start + timedelta(minutes=30 * n, seconds=7, microseconds=123) for n in range(24)]
    return [*found, datetime(2025, 1, 1, 0, 0), datetime(1999, 12, 31, 23, 59, 59)]  # naive ones are UTC


@pytest.mark.parametrize("zone_name", ZONES)
def test_the_element_equals_the_composition_of_format_time(zone_name):
    zone = ZoneInfo(zone_name)
    for style in STYLES:
        for value in instants():
            assert time_element(value, style, zone) == composed(value, style, zone), (value, style)
            assert isinstance(time_element(value, style, zone), Markup)
    assert time_element(None, "datetime", zone) == composed(None, "datetime", zone) == ""

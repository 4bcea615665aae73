"""Integers in URLs and query strings, bounded by what every database we run on can hold.

PostgreSQL's INTEGER ends at 2**31 - 1 and SQLite's at 2**63 - 1; a made-up id past either used to reach the
database and answer 500. Every `<int:...>` in a route matches only 0..2**31 - 1, so a larger one is a plain 404
(no such page) before any view runs, and query-string page numbers are read through `page_number`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

LARGEST_ID = 2**31 - 1  # PostgreSQL INTEGER, the smaller of our databases' integer columns


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>`: a non-negative integer no larger than LARGEST_ID (a larger one matches no route: 404)."""

    def __init__(
        self, map: Map, fixed_digits: int = 0, min: int | None = None, max: int | None = None
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=LARGEST_ID if max is None else max)


def install_id_converter(app: Flask) -> None:
    """Make every `<int:...>` route bounded (call before any blueprint is registered)."""
    app.url_map.converters["int"] = DatabaseIdConverter


def page_number(args: Mapping[str, Any], name: str = "page") -> int:
    """A 1-based page number from the query string: missing, malformed or below 1 gives 1, and a number past
    LARGEST_ID gives LARGEST_ID (an empty page, never an overflow in the database's OFFSET)."""
    raw = args.get(name, "")
    try:
        number = int(str(raw).strip())
    except ValueError:
        return 1
    return min(max(number, 1), LARGEST_ID)

"""Cursor pagination: pages in id order, each cursor the signed last id of the page before.

Keyset, not offset: rows inserted while a client pages get larger ids, so they come at the end and nothing is
skipped or seen twice. The cursor is signed (itsdangerous, with the app's secret), so it is opaque and a made-up
one is refused with a 400 rather than read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from lms.extensions import db

SALT = "lms.api.cursor"


class BadCursor(Exception):
    pass


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key or "", salt=SALT)


def encode_cursor(last_id: int, kind: str) -> str:
    return str(_serializer().dumps([kind, last_id]))


def decode_cursor(cursor: str, kind: str) -> int:
    try:
        value = _serializer().loads(cursor)
    except BadSignature as error:
        raise BadCursor("This cursor is not one the API gave out.") from error
    if (
        not isinstance(value, list)
        or len(value) != 2
        or value[0] != kind
        or not isinstance(value[1], int)
        or isinstance(value[1], bool)
    ):
        raise BadCursor("This cursor belongs to another list.")
    return int(value[1])


@dataclass(frozen=True)
class Page:
    items: list[Any]
    next_cursor: str | None


def page_of(stmt: sa.Select[Any], id_column: Any, kind: str, limit: int, cursor: str | None) -> Page:
    """One page of `stmt` (rows whose first entity has `id_column`), in id order."""
    if cursor:
        stmt = stmt.where(id_column > decode_cursor(cursor, kind))
    rows = list(db.session.execute(stmt.order_by(id_column).limit(limit + 1)).unique().scalars())
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, encode_cursor(rows[-1].id, kind) if more and rows else None)

"""One page of a list as the API answers it: the items, the next cursor and URL, and the Link header."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa
from flask import url_for

from lms.api.paging import BadCursor, page_of
from lms.api.views import ApiProblem


def paged(
    stmt: sa.Select[Any],
    id_column: Any,
    kind: str,
    limit: int,
    cursor: str | None,
    to_json: Callable[[Any], dict[str, Any]],
    endpoint: str,
    filters: Mapping[str, Any],
) -> tuple[dict[str, Any], int, dict[str, str]]:
    try:
        page = page_of(stmt, id_column, kind, limit, cursor)
    except BadCursor as error:
        raise ApiProblem(400, str(error), errors={"cursor": [str(error)]}) from error
    headers: dict[str, str] = {}
    next_url = None
    if page.next_cursor:
        args = {k: _arg(v) for k, v in filters.items() if v is not None}
        next_url = url_for(endpoint, **args, limit=limit, cursor=page.next_cursor)
        headers["Link"] = f'<{next_url}>; rel="next"'
    body = {
        "items": [to_json(item) for item in page.items],
        "next_cursor": page.next_cursor,
        "next": next_url,
    }
    return body, 200, headers


def _arg(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value

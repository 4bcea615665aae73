"""Pages kept rendered per process, and served again while nothing they show has changed: the staff list pages
(grading queue, gradebook, certificate list, admin user list) and the student's dashboard.

A kept page is what one reader got for one URL. It is served again to that reader only while:
- the stamps of every table its rendering read are unchanged (lms.stamps: database triggers raise a table's stamp
  in each transaction that changes it, whoever writes). The tables are not declared by hand: every statement run
  while the page renders is noted, and each table named in it counts. A page that read a table without a stamp
  (lms.stamps.UNSTAMPED_TABLES) is not kept. The reader's own account row always counts (their name, role and
  time zone are on the page);
- the time is before the page's own limit, when what it shows depends on the time: a rendering that reads the
  clock (lms.clock.now_utc) is kept only if the code that compared the time said until when its result holds
  (lms.clock.holds_until: the next expiry, cut-off or renewal window it compared with), and is not kept otherwise.

The stamps are read before anything else, in the statement that also reads the signed-in account (the access
check's fast path, lms.accounts.fast.reads_user_with): a served page costs that one statement. The rows a rendering
reads come after the stamps, so a page is never older than the stamps it is kept under. A request with flashed
messages (shown once), or whose rendering changed the session, gets a page rendered for it alone; only GET and HEAD
requests are kept, and only pages a view returns as text (not a redirect, a file or an error).

Each page is rendered with a marker in place of the CSRF token (lms.page_cache.csrf_token_marked), and each
request puts its own in. Proved by tests/test_kept_pages.py: a change through the ORM, raw SQL or another process
shows at the next request; pages that read the clock, flashes and other readers are never served kept.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import Flask, current_app, request, session

from lms import clock, compat, stamps
from lms.accounts.access import preloaded_or, reads_user_with, signed_in
from lms.accounts.models import Identity, Reader, User
from lms.accounts.operations import READER_SELECT, read_reader_with
from lms.extensions import db, login_manager
from lms.page_cache import csrf_token_marked, install_page_cache, page_cache_of, with_csrf_token
from lms.timezones import COOKIE as TZ

PAGES_KEPT = 200  # per view and process, unless the view says otherwise; a list page is 20-120 KB
ACCOUNTS_TABLE = "users"
# The views kept (kept_page), each with the number of pages it keeps per process: its own cache, so that one
# view's readers (20 000 students' dashboards) never push another view's pages out.
_KEPT_VIEWS: dict[str, int] = {}

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class _Rendering:
    """What one rendering read: the tables its statements named, and what it did with the time."""

    tables: set[str] = field(default_factory=set)
    time: clock.TimeRead = field(default_factory=clock.TimeRead)


_rendering: ContextVar[_Rendering | None] = ContextVar("lms_kept_page_rendering", default=None)


@dataclass(frozen=True, slots=True)
class KeptPage:
    html: str  # with lms.page_cache.TOKEN_MARKER
    epoch: str
    stamps: tuple[tuple[str, int], ...]  # each table read, with its stamp when the page was rendered
    until: datetime | None

    def holds(self, now_stamps: stamps.Stamps, now: datetime) -> bool:
        if now_stamps.epoch != self.epoch or (self.until is not None and now >= self.until):
            return False
        return all(now_stamps.of_table(table) == stamp for table, stamp in self.stamps)


# --- the stamps, read with the account -----------------------------------------------------------------------------


@functools.cache
def _reader_and_stamps(tables: tuple[str, ...]) -> sa.Select[Any]:
    """The account and the stamps of `tables` in one statement, built once (tables: the app's stamped tables)."""
    sums = stamps.stamp_sums(tables)
    users = User.__table__
    return (
        sa.select(*READER_SELECT, *sums.c)
        .select_from(users.join(sums, sa.true()))
        .where(users.c.id == sa.bindparam("user_id"))
    )


def read_reader_and_stamps(
    user_id: int, session: str | None = None, **_view_args: Any
) -> tuple[Reader, stamps.Stamps] | None:
    """The signed-in account and the table stamps, in one statement (the kept page's fast path)."""
    tables = current_app.extensions["lms_kept_pages_stamped_order"]
    found = read_reader_with(_reader_and_stamps(tables), {"user_id": user_id}, session)
    if found is None:
        return None
    reader, row = found
    return reader, stamps.stamps_of(tables, row)


# --- noting what a rendering reads ---------------------------------------------------------------------------------


@functools.cache
def _table_names(names: frozenset[str]) -> re.Pattern[str]:
    return re.compile(r"\b(" + "|".join(sorted(names, key=len, reverse=True)) + r")\b")


def _note_statement(
    _conn: Any, _cursor: Any, statement: str, _parameters: Any, _context: Any, _executemany: bool
) -> None:
    rendering = _rendering.get()
    if rendering is not None:
        known = current_app.extensions["lms_kept_pages_tables"]
        rendering.tables.update(_table_names(known).findall(statement))


@contextmanager
def _noting() -> Iterator[_Rendering]:
    with clock.watched() as time:
        rendering = _Rendering(time=time)
        token = _rendering.set(rendering)
        try:
            yield rendering
        finally:
            _rendering.reset(token)


def _kept(
    rendering: _Rendering, stamped: frozenset[str], now_stamps: stamps.Stamps, html: str
) -> KeptPage | None:
    """The page to keep from this rendering, or None when it may not be kept."""
    tables = rendering.tables | {ACCOUNTS_TABLE}
    if not rendering.time.bounded or not tables <= stamped:
        return None
    read = tuple((table, now_stamps.of_table(table)) for table in sorted(tables))
    return KeptPage(html, now_stamps.epoch, read, rendering.time.until)


# --- the decorator ---------------------------------------------------------------------------------------------------


def kept_page(view: F | None = None, *, size: int = PAGES_KEPT) -> Any:
    """Keep the view's page per reader and URL while nothing it read has changed (see the module's docstring),
    at most `size` pages per process. Put it below the access decorator, which runs its one statement
    (reads_user_with)."""
    if view is None:
        return functools.partial(kept_page, size=size)
    name = f"kept {view.__module__}.{view.__qualname__}"
    _KEPT_VIEWS[name] = size

    @functools.wraps(view)
    def keep(**view_args: Any) -> Any:
        reader = signed_in()
        now_stamps = preloaded_or(lambda: read_reader_and_stamps(reader.id))
        if request.method not in ("GET", "HEAD") or session.get("_flashes") or now_stamps is None:
            return _as_user(reader, view, view_args)
        pages = page_cache_of(current_app, name)
        # The reader, and what else decides the page: the URL, and the browser's time zone (shown where the account
        # names none; lms.timezones).
        key = (
            request.host,
            request.script_root,
            request.full_path,
            reader.id,
            reader.role,
            request.cookies.get(TZ),
        )
        kept = pages.get(key)
        if kept is not None and kept.holds(now_stamps, clock.now_utc()):
            return with_csrf_token(kept.html)
        modified = session.modified
        with _noting() as rendering, csrf_token_marked():
            page = _as_user(reader, view, view_args)
        if isinstance(page, tuple) and len(page) == 2 and page[1] == 200:
            page = page[0]
        if not isinstance(page, str):
            return page
        if not session.modified or modified:
            found = _kept(rendering, current_app.extensions["lms_kept_pages_stamped"], now_stamps, page)
            if found is not None:
                pages.put(key, found)
            else:
                pages.forget(key)
        return with_csrf_token(page)

    return reads_user_with(read_reader_and_stamps)(keep)  # type: ignore[return-value]


def _as_user(reader: Identity, view: Callable[..., Any], view_args: dict[str, Any]) -> Any:
    """Run the view with the account as every other view gets it: the User row, where the fast path read a
    Reader (its columns only)."""
    if isinstance(reader, Reader):
        user = db.session.get(User, reader.id)
        if user is None:  # deleted since the statement read it
            return login_manager.unauthorized()
        compat.set_request_user(user)
    return view(**view_args)


def install_kept_pages(app: Flask, tables: Iterable[str]) -> None:
    """Keep the pages of every view imported so far (kept_page) in this app: `tables` are the schema's tables
    (those with a stamp are lms.stamps')."""
    names = frozenset(tables)
    for view, size in _KEPT_VIEWS.items():
        install_page_cache(app, view, size)
    app.extensions["lms_kept_pages_tables"] = names
    stamped = tuple(stamps.stamped_tables(names))
    app.extensions["lms_kept_pages_stamped"] = frozenset(stamped)
    app.extensions["lms_kept_pages_stamped_order"] = stamped
    if not sa.event.contains(sa.engine.Engine, "before_cursor_execute", _note_statement):
        sa.event.listen(sa.engine.Engine, "before_cursor_execute", _note_statement)

"""Pages kept rendered, per process, under a key that names everything they show.

Each use reads what decides its page at every request (from the database), and renders only when no page is kept
for that key:
- public verification pages (lms.certificates.public_views), under the certificate's stamp: revoked, reissued or renewed
  (a new version), or expired changes the stamp;
- lesson pages (lms.courses.lesson_views), under the track's content version and where the reader stands;
- staff list pages and the student's dashboard (lms.accounts.kept_pages), under the stamps of the tables they read.

The same map keeps the attempts a process has read for autosaves (lms.quizzes.fast.known_attempt): not a
page, but kept and forgotten the same way.

Every other per-process cache of rows read from the database (an `functools.lru_cache` of a quiz version's
questions, say) registers its clearing function with `forget_with_pages`, so that `clear_page_caches` forgets
everything a process keeps from its database in one call.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

from flask import Flask, current_app

from lms import compat
from lms.web import csrf_token

# Random per process, so no text on a page can contain it by chance or on purpose.
TOKEN_MARKER = f"lms-reader-token-{secrets.token_hex(12)}"

Page = TypeVar("Page")


class PageCache(Generic[Page]):
    """A small least-recently-used map from a key to a rendered page, safe for threaded workers."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: OrderedDict[Hashable, Page] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: Hashable, page: Page) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._pages.pop(key, None)

    def clear(self) -> None:
        """Forget every kept page (the database they came from was replaced: tests do this between tests)."""
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        return len(self._pages)


@contextmanager
def csrf_token_marked() -> Iterator[None]:
    """While a page to keep renders, `csrf_token()` answers TOKEN_MARKER (and signs nothing into the session):
    with_csrf_token puts each reader's own token in its place."""
    field = str(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))
    own_token = compat.forget_request_csrf_token(field)
    compat.keep_request_csrf_token(field, TOKEN_MARKER)  # what csrf_token() answers first in a request
    try:
        yield
    finally:
        compat.forget_request_csrf_token(field)
        if own_token is not None:
            compat.keep_request_csrf_token(field, own_token)


def with_csrf_token(html: str) -> str:
    """A kept page with this request's CSRF token in place of the marker (csrf_token_marked)."""
    return html.replace(TOKEN_MARKER, csrf_token()) if TOKEN_MARKER in html else html


def install_page_cache(app: Flask, name: str, size: int) -> PageCache[Any]:
    cache: PageCache[Any] = PageCache(size)
    app.extensions[f"lms_pages_{name}"] = cache
    return cache


def page_cache_of(app: Flask, name: str) -> PageCache[Any]:
    return app.extensions[f"lms_pages_{name}"]  # type: ignore[no-any-return]


_CLEARED_WITH_PAGES: list[Callable[[], None]] = []

F = TypeVar("F", bound=Callable[..., Any])


def forget_with_pages(cached: F) -> F:
    """Register a per-process cache of database rows (a function wrapped by `functools.lru_cache`) so that
    `clear_page_caches` empties it too. Returns the function, so it stacks as a decorator above the cache."""
    clear = getattr(cached, "cache_clear", None)
    if clear is None:
        raise TypeError(f"{cached!r} has no cache_clear(): wrap it in functools.lru_cache first")
    if clear not in _CLEARED_WITH_PAGES:
        _CLEARED_WITH_PAGES.append(clear)
    return cached


def clear_page_caches(app: Flask) -> None:
    """Forget every page kept by this app, and every registered cache of rows (its database was replaced: tests do
    this between tests)."""
    for key, cache in app.extensions.items():
        if key.startswith("lms_pages_"):
            cache.clear()
    for clear in _CLEARED_WITH_PAGES:
        clear()

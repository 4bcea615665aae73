"""Public verification pages kept rendered, per process, under the stamp that decides what they show.

The page for a certificate is the same for every visitor (no session, no personal choice) until its stamp
changes: revoked, reissued or renewed (a new version), or expired (the status is worked out at each request). So
each request still reads the stamp from the database, and renders only when no page is kept for that stamp.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable

from flask import Flask

PAGES_KEPT = 1000  # per process; a page is a few KB (its QR code included)


class PageCache:
    """A small least-recently-used map from a key to a rendered page, safe for threaded workers."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._pages: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> str | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: Hashable, page: str) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        """Forget every kept page (the database they came from was replaced: tests do this between tests)."""
        with self._lock:
            self._pages.clear()

    def __len__(self) -> int:
        return len(self._pages)


def install_page_cache(app: Flask) -> PageCache:
    cache = PageCache(PAGES_KEPT)
    app.extensions["lms_verify_pages"] = cache
    return cache


def page_cache_of(app: Flask) -> PageCache:
    return app.extensions["lms_verify_pages"]  # type: ignore[no-any-return]

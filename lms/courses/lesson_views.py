"""The lesson page's web layer: pages kept rendered per process, shared by the readers who stand at the same point
of a track.

A lesson page shows three things:
- the lesson: the track's content at its content version;
- where the reader stands: the lessons they completed decide the progress bars, the done marks, the locks and
  the links to the previous and next lessons; whether they are enrolled decides the "Mark as complete" form;
- who the reader is: their role decides the menu and the staff note; their name and their CSRF token sit in the
  layout.

So a page is rendered once with markers in place of the name and the token (lms.page_cache.csrf_token_marked),
and kept under a key that names all the rest: the track row (its content version included), the lesson, the role,
the enrolment and the set of lessons completed in the track. Every request reads that key anyway (the page's one
statement) and puts its own reader's name (escaped) and token into the kept page. Students work through a track in order, so a cohort shares a few pages
per lesson. A request with flashed messages (shown once, to one reader) gets a page rendered for it alone.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from flask import current_app, request, session
from markupsafe import escape

from lms import compat
from lms.accounts.models import Identity, Reader
from lms.courses.operations import TrackReading
from lms.page_cache import csrf_token_marked, page_cache_of, with_csrf_token

# Random per process, so no lesson text or name can contain it by chance or on purpose.
NAME_MARKER = f"lms-reader-name-{secrets.token_hex(12)}"
LESSON_PAGES_KEPT = 2000  # per process; a page is about 10 KB


@dataclass(frozen=True, slots=True)
class KeptPage:
    lesson_id: int
    html: str  # with NAME_MARKER and TOKEN_MARKER


def page_key(reader: Identity, reading: TrackReading, lesson_slug: str) -> Hashable | None:
    """What decides the page apart from the reader's name and token; None when it must not be shared."""
    if session.get("_flashes"):
        return None
    enrolled = reading.enrollment is not None and reading.enrollment.active
    return (request.script_root, reading.track, lesson_slug, reader.role, enrolled, reading.completed)


def find_page(key: Hashable | None) -> KeptPage | None:
    return None if key is None else page_cache_of(current_app, "lessons").get(key)


def render_page(
    key: Hashable | None, reader: Identity, lesson_id: int, render: Callable[[], str]
) -> KeptPage:
    """Render the page (`render`) as any reader at this point would see it, and keep it under `key`."""
    if key is None:
        return KeptPage(lesson_id, render())
    stand_in = Reader(reader.id, "", NAME_MARKER, reader.role, reader.active, reader.session_version)
    own_user = compat.request_user()
    compat.set_request_user(stand_in)  # what the layout reads as current_user while it renders
    try:
        with csrf_token_marked():
            html = render()
    finally:
        compat.set_request_user(own_user)
    page = KeptPage(lesson_id, html)
    page_cache_of(current_app, "lessons").put(key, page)
    return page


def page_for(page: KeptPage, reader: Identity) -> str:
    """The kept page with this reader's name and CSRF token in place of the markers (the name goes in last, so
    nothing in it is ever read as a marker)."""
    return with_csrf_token(page.html).replace(NAME_MARKER, str(escape(reader.full_name)))

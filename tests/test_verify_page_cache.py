"""The public verify page is kept rendered under its certificate's stamp: the stamp is read at every view, so a
revocation, a new version or an expiry shows at once, and an unchanged certificate costs one small query."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms import clock
from lms.certificates import operations
from lms.extensions import db
from lms.page_cache import PageCache, page_cache_of
from tests import test_certificates as shared
from tests.support import recorded_statements

certified_track, progress, track, issued = (
    shared.certified_track,
    shared.progress,
    shared.track,
    shared.issued,
)


@pytest.fixture
def statements(app):
    with recorded_statements() as seen:
        yield seen


def view(client, certificate):
    return view_code(client, certificate.display_code)


def view_code(client, code):
    response = client.get(f"/verify/{code}")
    return response.status_code, response.get_data(as_text=True)


def test_a_second_view_reads_only_the_stamp_and_shows_the_same_page(app, client, issued, statements):
    code = issued.display_code
    first = view_code(client, code)
    assert first[0] == 200 and "Stella Student" in first[1]
    statements.clear()
    second = view_code(client, code)
    assert second == first
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 1 and "certificate_versions.expires_at" in reads[0]  # the stamp, nothing more
    assert len(page_cache_of(app, "verify")) == 1


def test_a_revocation_shows_at_once(client, issued, admin):
    assert view(client, issued)[0] == 200
    operations.revoke_certificate(issued, admin, "Issued by mistake")
    status, page = view(client, issued)
    assert status == 410
    assert "REVOKED" in page and "Issued by mistake" in page
    assert "Stella Student" not in page  # the revoked page names nobody


def test_a_new_version_shows_at_once(client, issued, admin):
    assert "Stella Student" in view(client, issued)[1]
    operations.reissue_certificate(issued, admin, "Name correction", holder_name="Stella Q. Student")
    status, page = view(client, issued)
    assert status == 200 and "Stella Q. Student" in page


def test_expiry_shows_at_once(client, issued):
    assert "VALID" in view(client, issued)[1]
    clock.freeze(issued.current.expires_at + timedelta(seconds=1))
    status, page = view(client, issued)
    assert status == 200 and "EXPIRED" in page and "expired on" in page


def test_each_view_is_still_counted(client, issued):
    for _ in range(3):
        view(client, issued)
    db.session.expire_all()
    assert operations.find_certificate(issued.code).verification_count == 3


def test_the_cache_keeps_only_the_most_recently_used_pages():
    cache = PageCache(2)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"  # a is now the most recent
    cache.put("c", "C")
    assert cache.get("b") is None and cache.get("a") == "A" and cache.get("c") == "C"
    cache.clear()
    assert len(cache) == 0 and cache.get("a") is None
    off = PageCache(0)
    off.put("a", "A")
    assert off.get("a") is None

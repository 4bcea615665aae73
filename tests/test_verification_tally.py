"""Verification counts written a few seconds after the views (the busy public page then only reads).

The shared test settings write each count at once (CERTIFICATE_COUNT_FLUSH_SECONDS=0); these tests run the
production behaviour: counted in memory, written by a timer or at flush, never lost by a failed write.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from lms import clock
from lms.certificates import tally as tally_module
from lms.certificates.models import Certificate
from lms.certificates.tally import tally_of, write_counts
from lms.extensions import db
from tests import test_certificates as shared

certified_track, progress, track, issued = (
    shared.certified_track,
    shared.progress,
    shared.track,
    shared.issued,
)


def stored(certificate_id: int) -> tuple[int, object]:
    db.session.expire_all()
    row = db.session.execute(
        sa.select(Certificate.verification_count, Certificate.last_verified_at).where(
            Certificate.id == certificate_id
        )
    ).one()
    return row[0], row[1]


@pytest.mark.app_config(CERTIFICATE_COUNT_FLUSH_SECONDS=3600)
def test_views_are_counted_in_memory_and_written_together_at_flush(app, client, issued):
    tally = tally_of(app)
    for _ in range(3):
        assert client.get(f"/verify/{issued.display_code}").status_code == 200
    assert client.get(f"/verify/{issued.display_code}.json").status_code == 200
    assert stored(issued.id) == (0, None)  # the page itself wrote nothing
    assert tally.pending == 4
    tally.flush()
    count, last = stored(issued.id)
    assert count == 4
    assert last is not None and abs(last - clock.now_utc()) < timedelta(minutes=1)
    assert tally.pending == 0
    tally.flush()  # nothing pending: nothing added twice
    assert stored(issued.id)[0] == 4


@pytest.mark.app_config(CERTIFICATE_COUNT_FLUSH_SECONDS=0.2)
def test_the_timer_writes_the_counts_without_another_request(app, client, issued):
    assert client.get(f"/verify/{issued.display_code}").status_code == 200
    deadline = time.monotonic() + 15
    while stored(issued.id)[0] != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored(issued.id)[0] == 1
    assert tally_of(app).pending == 0


@pytest.mark.app_config(CERTIFICATE_COUNT_FLUSH_SECONDS=3600)
def test_a_failed_write_keeps_the_views_for_the_next_flush(app, client, issued, monkeypatch, caplog):
    tally = tally_of(app)
    client.get(f"/verify/{issued.display_code}")
    client.get(f"/verify/{issued.display_code}")

    def database_away(pending):
        raise sa.exc.OperationalError("UPDATE certificates", {}, Exception("server closed the connection"))

    monkeypatch.setattr(tally_module, "write_counts", database_away)
    tally.flush()
    assert "could not write" in caplog.text
    assert tally.pending == 2 and stored(issued.id)[0] == 0
    monkeypatch.undo()
    client.get(f"/verify/{issued.display_code}")
    tally.flush()
    assert stored(issued.id)[0] == 3
    assert tally.pending == 0


def test_the_last_verification_time_never_moves_back(app, issued):
    now = clock.now_utc()
    write_counts({issued.id: (2, now)})
    write_counts({issued.id: (1, now - timedelta(hours=1))})  # a slower process writes an older view later
    count, last = stored(issued.id)
    assert count == 3
    assert abs(last - now) < timedelta(seconds=1)


def test_unknown_codes_and_refused_lookups_add_nothing(app, client, issued):
    client.get("/verify/not-a-code")
    assert tally_of(app).pending == 0
    assert stored(issued.id)[0] == 0

"""The table stamps' lock (lms.stamps): a writer takes the stamp row's lock only at commit, so two writers never
wait on each other for it while their transactions are open, and can never deadlock on it. PostgreSQL only: SQLite
has one writer at a time, so there is no lock to order (its triggers run in the writing statement)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from lms import stamps
from lms.accounts.models import Role
from lms.extensions import db
from tests.test_kept_pages import read_stamps


@pytest.fixture(params=["postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """PostgreSQL only (see the module's docstring); without LMS_TEST_DATABASE_URL the `app` fixture says so."""
    return request.param  # type: ignore[no-any-return]


def test_a_writer_holds_the_stamp_lock_only_while_it_commits(app, make_user):
    """Two transactions writing the same table (other rows) at once: the second commits while the first is still
    open, because the stamp row is locked only at commit (a deferred trigger); so two writers can never deadlock on
    the stamp row whatever order they write their tables in."""
    first = make_user(Role.STUDENT, email="first@example.org").id
    second = make_user(Role.STUDENT, email="second@example.org").id
    before = read_stamps()
    engine = db.engine  # (the thread has no app context)
    with engine.connect() as slow:
        slow.begin()
        slow.execute(sa.text("UPDATE users SET full_name = 'Slow' WHERE id = :id"), {"id": first})
        done: list[bool] = []

        def quick() -> None:
            with engine.connect() as conn:
                conn.execute(sa.text("SET lock_timeout = '3s'"))
                conn.commit()
                with conn.begin():
                    conn.execute(
                        sa.text("UPDATE users SET full_name = 'Quick' WHERE id = :id"), {"id": second}
                    )
                done.append(True)

        worker = threading.Thread(target=quick)
        worker.start()
        worker.join(10)
        assert done == [True], "the quick writer waited for the open transaction's stamp lock"
        assert read_stamps().of_table("users") == before.of_table("users") + 1
        slow.commit()
    assert read_stamps().of_table("users") == before.of_table("users") + 2


def test_writers_are_spread_over_the_slots_and_every_commit_counts(app, make_user):
    """Each transaction raises the counter on one of SLOTS rows (by its id); the stamp is their sum."""
    user = make_user(Role.STUDENT, email="writer@example.org").id
    before = read_stamps()
    for n in range(24):
        with db.engine.begin() as conn:
            conn.execute(
                sa.text("UPDATE users SET full_name = :name WHERE id = :id"),
                {"name": f"Writer {n}", "id": user},
            )
    assert read_stamps().of_table("users") == before.of_table("users") + 24
    with db.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT count(*) FROM table_stamps")).scalar_one()
    assert 1 < rows <= stamps.SLOTS

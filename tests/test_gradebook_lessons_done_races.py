"""The kept count of lessons completed (Enrollment.lessons_done) stays true when a completion and a content sync
commit at the same moment, whichever waits for the other (PostgreSQL, READ COMMITTED, real connections).

SQLite runs one writer at a time, so there the two cannot interleave; these tests are for PostgreSQL only."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.courses import operations
from lms.courses.models import Enrollment, Lesson, LessonCompletion, Track
from lms.courses.progress import live_lessons_completed, recount_lessons_done
from lms.extensions import db
from tests.fixtures.courses.samples import lesson_by_slug, sync_tree
from tests.test_gradebook_lessons_done import alpha, kept_counts

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """PostgreSQL only (see the module's docstring); without LMS_TEST_DATABASE_URL the `app` fixture says so."""
    return request.param  # type: ignore[no-any-return]


class Waiter(threading.Thread):
    """A job in a transaction of its own (its own app context, session and connection), committed at its end."""

    def __init__(self, app: Any, job: Callable[[], object]) -> None:
        super().__init__(daemon=True)
        self.app, self.job = app, job
        self.pid: int | None = None
        self.error: BaseException | None = None
        self.started_job = threading.Event()

    def run(self) -> None:
        with self.app.app_context():
            try:
                self.pid = db.session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
                self.started_job.set()
                self.job()
                db.session.commit()
            except BaseException as error:  # reported to the test, which asserts on it
                db.session.rollback()
                self.error = error
            finally:
                self.started_job.set()
                db.session.remove()


def start_blocked(app: Any, holder: sa.Connection, job: Callable[[], object]) -> Waiter:
    """Start the job and return once it waits for a lock that `holder`'s open transaction holds."""
    waiter = Waiter(app, job)
    waiter.start()
    assert waiter.started_job.wait(10)
    blocked_by = sa.text("SELECT pg_backend_pid() = ANY(pg_blocking_pids(:pid))")
    deadline = time.monotonic() + 10
    while not holder.execute(blocked_by, {"pid": waiter.pid}).scalar_one():
        assert waiter.is_alive(), f"the job ended without waiting for the lock: {waiter.error!r}"
        assert time.monotonic() < deadline, "the job never waited for the other transaction's lock"
        time.sleep(0.01)
    return waiter


@pytest.fixture
def enrolled(app, tree, student) -> tuple[Track, int, int]:
    """The student enrolled in alpha, committed: the track, the student's id and the first lesson's id."""
    sync_tree(tree)
    track = alpha()
    operations.enroll(student, track)
    db.session.commit()
    return track, student.id, lesson_by_slug(track, "first-steps").id


def counted_again(which: sa.ColumnElement[bool]) -> sa.Update:
    """The UPDATE that sets these enrolments' lessons_done to their count (as a writer would, with no lock first)."""
    return (
        sa.update(Enrollment)
        .where(which)
        .values(lessons_done=live_lessons_completed(Enrollment.user_id, Enrollment.track_id))
    )


def test_a_recount_that_waits_for_a_completion_counts_it(app, enrolled):
    track, uid, lesson_id = enrolled
    # A completion, written as complete_lesson writes it, not committed yet.
    with db.engine.connect() as completing:
        completing.execute(
            sa.insert(LessonCompletion).values(user_id=uid, lesson_id=lesson_id, completed_at=NOW)
        )
        completing.execute(counted_again(Enrollment.user_id == uid))
        recount = start_blocked(app, completing, lambda: recount_lessons_done([track.id]))
        completing.commit()
    recount.join(30)
    assert recount.error is None
    # Without the lock taken before counting, the recount's UPDATE counted with its first snapshot: 0.
    assert kept_counts(track) == {uid: 1}


def test_a_completion_that_waits_for_a_sync_retiring_its_lesson_does_not_count_it(app, enrolled):
    track, uid, lesson_id = enrolled
    # A sync: the lesson retired, then the track's enrolments counted again, not committed yet.
    with db.engine.connect() as syncing:
        syncing.execute(sa.update(Lesson).where(Lesson.id == lesson_id).values(retired_at=NOW))
        syncing.execute(counted_again(Enrollment.track_id == track.id))
        completion = start_blocked(
            app,
            syncing,
            lambda: operations.complete_lesson(db.session.get(User, uid), db.session.get(Lesson, lesson_id)),
        )
        syncing.commit()
    completion.join(30)
    assert completion.error is None
    assert db.session.scalar(sa.select(sa.func.count(LessonCompletion.id))) == 1  # recorded, and retired
    # Adding one to the count the sync left (0) gave 1 for a retired lesson.
    assert kept_counts(track) == {uid: 0}

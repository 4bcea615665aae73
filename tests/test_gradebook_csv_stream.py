"""The gradebook CSV streams: the same lines as the table built whole, read a chunk of students at a time, so
memory stays flat however many students the track has (tracemalloc)."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from lms import clock
from lms.accounts.models import User
from lms.courses.models import Enrollment, LessonCompletion
from lms.extensions import db
from lms.gradebook.table import Filters, build_gradebook, csv_lines, streamed_csv_lines
from tests.fixtures.files import rows
from tests.test_gradebook_queries import STATES, add_students
from tests.test_gradebook_support import lessons_of, make_quiz, make_track

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def whole(track, filters: Filters) -> str:
    return "".join(csv_lines(build_gradebook(track, filters, NOW, page=None)))


def streamed(track, filters: Filters, chunk: int = 500) -> str:
    return "".join(streamed_csv_lines(track, filters, NOW, chunk=chunk))


def test_streamed_csv_equals_the_table_built_whole(app, instructor):
    clock.freeze(NOW)
    track = make_track("streamed", modules=3, lessons=2)
    quizzes = [
        make_quiz(track, "sq1", "m1"),
        make_quiz(track, "sq2", "m2", grading="last"),
        make_quiz(track, "sf"),
    ]
    assignment = rows.make_assignment(track, "handbook", criteria=2, blind=False)
    add_students(track, quizzes, assignment, instructor, 1, 23)
    db.session.execute(sa.update(Enrollment).where(Enrollment.user_id % 5 == 0).values(left_at=NOW))
    db.session.commit()
    assert len(STATES) > 1
    for filters in (
        Filters(),
        Filters(sort="progress", order="desc"),
        Filters(sort="enrolled", order="asc", include_left=True),
        Filters(search="1", sort="name", order="desc"),
    ):
        expected = whole(track, filters)
        assert expected.count("\n") > 5
        # chunks of 4 students: the roster's cursor is read in six parts, each with its facts
        assert streamed(track, filters, chunk=4) == expected, filters


def add_plain_students(track, first: int, count: int) -> None:
    """Students enrolled with a lesson done, in three INSERTs."""
    lesson = lessons_of(track)[0]
    at = NOW - timedelta(days=3)
    db.session.execute(
        sa.insert(User),
        [
            {
                "email": f"bulk{n}@example.org",
                "full_name": f"Bulk Student {n}",
                "password_hash": "x",
                "role": "student",
                "active": True,
                "session_version": 1,
                "created_at": at,
                "updated_at": at,
            }
            for n in range(first, first + count)
        ],
    )
    ids = db.session.scalars(
        sa.select(User.id).where(User.email.like("bulk%")).order_by(User.id).offset(first).limit(count)
    ).all()
    db.session.execute(
        sa.insert(Enrollment), [{"user_id": uid, "track_id": track.id, "enrolled_at": at} for uid in ids]
    )
    db.session.execute(
        sa.insert(LessonCompletion),
        [{"user_id": uid, "lesson_id": lesson.id, "completed_at": at} for uid in ids],
    )
    db.session.execute(
        sa.update(Enrollment).where(Enrollment.user_id.in_(ids)).values(lessons_done=1)
    )  # the kept count, as complete_lesson keeps it
    db.session.commit()


def peak_while_streaming(track) -> tuple[int, int]:
    """The lines of the CSV, and the most memory Python held at once while they were made and thrown away."""
    db.session.expire_all()
    tracemalloc.start()
    try:
        lines = sum(chunk.count("\n") for chunk in streamed_csv_lines(track, Filters(), NOW))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return lines, peak


def test_csv_memory_stays_flat_from_2000_to_8000_students(app):
    clock.freeze(NOW)
    track = make_track("flat", modules=2, lessons=2)
    make_quiz(track, "flat-q", "m1")
    add_plain_students(track, 0, 2000)
    peak_while_streaming(track)  # warm: statements compiled and cached once
    lines_2k, peak_2k = peak_while_streaming(track)
    add_plain_students(track, 2000, 6000)
    lines_8k, peak_8k = peak_while_streaming(track)
    assert (lines_2k, lines_8k) == (2001, 8001)
    # Four times the students: the peak is that of one chunk (500 students), not of the whole table.
    assert peak_8k < 1.5 * peak_2k, (peak_2k, peak_8k)

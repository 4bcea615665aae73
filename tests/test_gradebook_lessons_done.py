"""Each enrolment keeps its count of live lessons completed (Enrollment.lessons_done), and it stays true: completing
a lesson adds one, a content sync that retires a lesson or a module, or brings one back, counts again; the gradebook
sorted by progress follows. (There is no way to un-complete a lesson: completions are never deleted.)"""

from __future__ import annotations

import shutil

import sqlalchemy as sa

from lms import clock
from lms.courses import operations
from lms.courses.models import Enrollment, Track
from lms.courses.progress import live_lessons_completed
from lms.extensions import db
from lms.gradebook.table import Filters, build_gradebook
from tests.fixtures.courses.samples import (
    DEEP,
    FIRST,
    SECOND,
    copy_valid_tree,
    edit,
    lesson_by_slug,
    sync_tree,
)


def alpha() -> Track:
    return db.session.execute(sa.select(Track).where(Track.slug == "alpha")).scalar_one()


def kept_counts(track: Track) -> dict[int, int]:
    """Each student's kept count, after checking it against the completions counted by the live-lesson rule."""
    db.session.expire_all()
    rows = db.session.execute(
        sa.select(
            Enrollment.user_id,
            Enrollment.lessons_done,
            live_lessons_completed(Enrollment.user_id, Enrollment.track_id),
        ).where(Enrollment.track_id == track.id)
    ).all()
    assert [(user, kept) for user, kept, _ in rows] == [(user, counted) for user, _, counted in rows]
    return {user: kept for user, kept, _ in rows}


def by_progress(track: Track) -> list[tuple[int, int]]:
    book = build_gradebook(track, Filters(sort="progress", order="desc"), clock.now_utc())
    return [(row.user.id, row.done) for row in book.rows]


def test_the_kept_count_follows_completions_and_content_syncs(app, tree, student, make_user):
    sync_tree(tree)
    track = alpha()
    first, second, deep = (
        lesson_by_slug(track, slug) for slug in ("first-steps", "second-steps", "deep-dive")
    )
    other = make_user(full_name="Aaron Other")  # first by name: the sort by progress must move him
    operations.enroll(student, track)
    operations.enroll(other, track)
    assert kept_counts(track) == {student.id: 0, other.id: 0}

    operations.complete_lesson(student, first)
    operations.complete_lesson(student, first)  # again: a no-op, counted once
    assert kept_counts(track) == {student.id: 1, other.id: 0}
    assert by_progress(track) == [(student.id, 1), (other.id, 0)]

    for lesson in (first, second, deep):  # the advanced module opens once basics is complete
        operations.complete_lesson(other, db.session.merge(lesson))
    assert kept_counts(track) == {student.id: 1, other.id: 3}
    assert by_progress(alpha()) == [(other.id, 3), (student.id, 1)]

    # The first lesson leaves the files: retired, it counts for no one.
    (tree / FIRST).unlink()
    edit(tree, DEEP, "(../basics/first-steps.md)", "(../basics/second-steps.md)")
    sync_tree(tree)
    assert kept_counts(track) == {student.id: 0, other.id: 2}
    assert by_progress(alpha()) == [(other.id, 2), (student.id, 0)]

    # Back in the files: it counts again.
    shutil.copy(copy_valid_tree(tree.parent / "again") / FIRST, tree / FIRST)
    sync_tree(tree)
    assert kept_counts(track) == {student.id: 1, other.id: 3}

    # The advanced module leaves: its lesson no longer counts.
    text = (tree / "alpha/track.toml").read_text()
    start = text.index('[[modules]]\nslug = "advanced"')
    (tree / "alpha/track.toml").write_text(text[:start] + text[text.index("[assignment]") :])
    shutil.rmtree(tree / "alpha/advanced")
    edit(tree, SECOND, "(../advanced/deep-dive.md#notes-that-work)", "(first-steps.md)")
    sync_tree(tree)
    assert kept_counts(track) == {student.id: 1, other.id: 2}
    assert by_progress(alpha()) == [(other.id, 2), (student.id, 1)]


def test_a_sync_that_changes_no_lesson_counts_nothing_again(app, tree, student):
    """Editing a lesson's text leaves the counts alone (no UPDATE of enrollments)."""
    sync_tree(tree)
    track = alpha()
    operations.enroll(student, track)
    operations.complete_lesson(student, lesson_by_slug(track, "first-steps"))
    db.session.execute(sa.update(Enrollment).values(lessons_done=7))  # a count no sync should touch here
    db.session.commit()
    edit(tree, SECOND, "## Notes that work", "## Notes that last")
    sync_tree(tree)
    db.session.expire_all()
    assert db.session.scalar(sa.select(Enrollment.lessons_done)) == 7

"""Track catalog, track pages, lesson pages, enrolment and "mark as complete"."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from lms.accounts.access import acting_user, login_required, preloaded_or, public, reads_user_with, signed_in
from lms.accounts.models import Identity, Reader
from lms.assignments import operations as assignment_operations
from lms.courses import lesson_views, operations, queries
from lms.courses.models import Track
from lms.errors import DomainError, NotFound
from lms.quizzes import operations as quiz_operations

bp = Blueprint("courses", __name__)


def _reader() -> Any:
    return acting_user() if current_user.is_authenticated else None


def _visible_track(slug: str, reader: Any) -> tuple[Track, Any]:
    """The track and the reader's enrolment row; a retired track is only shown to staff and to its students."""
    try:
        track, enrollment = operations.find_track_for(slug, reader.id if reader is not None else None)
    except NotFound:
        abort(404)
    if operations.track_hidden_from(reader, track, enrollment):
        abort(404)
    return track, enrollment


@bp.get("/tracks")
@public
def catalog_page() -> Any:
    return render_template("courses/catalog.html", entries=queries.catalog_entries(_reader()))


@bp.get("/tracks/<slug>")
@public
def track(slug: str) -> Any:
    reader = _reader()
    track, enrollment = _visible_track(slug, reader)
    outline = operations.track_outline(reader, track)
    quizzes = _track_quizzes(track, reader)
    return render_template(
        "courses/track.html",
        module_quizzes=quizzes["module"],
        final_quizzes=quizzes["final"],
        quizzes_to_pass=quizzes["to_pass"],
        assignments=assignment_operations.assignments_for_track(track.id),
        track=track,
        outline=outline,
        enrollment=enrollment,
        enrolled=enrollment is not None and enrollment.active,
        staff=reader is not None and operations.is_staff(reader),
        continue_lesson=outline.continue_lesson(enrollment.last_lesson_id if enrollment else None),
        weeks=queries.modules_by_week(track, outline),
    )


def _track_quizzes(track: Track, reader: Any) -> dict[str, Any]:
    """The track's quizzes with the reader's standing: by module id, the final exams, and (when the track's rule
    asks for every quiz) the module quizzes the reader has still to pass."""
    by_module: dict[int, list[Any]] = {}
    finals, to_pass = [], []
    every_quiz = (track.completion or {}).get("quizzes") == "all"
    for status in quiz_operations.quizzes_for_track(track.id, reader.id if reader is not None else None):
        if status.quiz.module_id is None:
            finals.append(status)
        else:
            by_module.setdefault(status.quiz.module_id, []).append(status)
            if every_quiz and reader is not None and not status.passed:
                to_pass.append(status.quiz)
    return {"module": by_module, "final": finals, "to_pass": to_pass}


@bp.post("/tracks/<slug>/enroll")
@login_required
def enroll(slug: str) -> Any:
    track, _ = _visible_track(slug, acting_user())
    try:
        operations.enroll(acting_user(), track)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(f"You are enrolled in {track.title}. Start with the first lesson below.", "success")
    return redirect(url_for("courses.track", slug=track.slug))


@bp.post("/tracks/<slug>/leave")
@login_required
def leave(slug: str) -> Any:
    track, _ = _visible_track(slug, acting_user())
    try:
        operations.leave(acting_user(), track)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(f"You left {track.title}. Your progress is kept if you enrol again.", "info")
    return redirect(url_for("courses.track", slug=track.slug))


def _read_lesson_reader(
    user_id: int, slug: str, lesson_slug: str, session: str | None = None
) -> tuple[Reader, operations.TrackReading | None] | None:
    """The lesson page's one statement, run by the access check: the reader with their track, enrolment and
    completions."""
    return operations.read_reader_and_track(user_id, slug, session)


def _reading_for(reader: Identity, slug: str) -> operations.TrackReading:
    """The reader's track, enrolment and completions, as the access check read them (or read now); 404 as
    _visible_track."""
    reading = preloaded_or(lambda: operations.read_reader_and_track(reader.id, slug))
    if reading is None or operations.track_hidden_from(reader, reading.track, reading.enrollment):
        abort(404)
    return reading


@bp.get("/tracks/<slug>/lessons/<lesson_slug>")
@login_required
@reads_user_with(_read_lesson_reader)
def lesson(slug: str, lesson_slug: str) -> Any:
    reader = signed_in()
    reading = _reading_for(reader, slug)
    key = lesson_views.page_key(reader, reading, lesson_slug)
    kept = lesson_views.find_page(key)
    if kept is None:
        track = reading.track
        page = queries.lesson_page(reader, reading, lesson_slug)
        if page is None:
            abort(404)
        if page.refusal == "enrol":
            return render_template("courses/lesson_enrol.html", track=track, page=page), 403
        if page.refusal == "locked":
            return render_template("courses/lesson_locked.html", track=track, page=page), 403
        kept = lesson_views.render_page(
            key,
            reader,
            page.lesson.id,
            lambda: render_template("courses/lesson.html", track=track, page=page),
        )
    if reading.enrollment is not None:
        operations.record_visit(reading.enrollment, kept.lesson_id)
    return lesson_views.page_for(kept, reader)


@bp.post("/tracks/<slug>/lessons/<lesson_slug>/complete")
@login_required
def complete(slug: str, lesson_slug: str) -> Any:
    reader = acting_user()
    track, _ = _visible_track(slug, reader)
    lesson = queries.find_lesson(track, lesson_slug)
    if lesson is None:
        abort(404)
    try:
        operations.complete_lesson(reader, lesson)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(f"“{lesson.title}” is complete.", "success")
    return redirect(url_for("courses.lesson", slug=track.slug, lesson_slug=lesson.slug))

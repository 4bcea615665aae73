"""Gradebook pages (staff only): the tracks, one track's table, the same table as CSV, and its cohorts."""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)

from lms.accounts.access import acting_user, staff_required
from lms.accounts.kept_pages import kept_page
from lms.clock import now_utc
from lms.courses.models import Track
from lms.errors import DomainError
from lms.gradebook import operations, queries
from lms.gradebook.forms import AssignCohortForm, CohortForm
from lms.gradebook.table import Filters, build_gradebook, format_percent, streamed_csv_lines
from lms.ids import page_number

bp = Blueprint("gradebook", __name__, url_prefix="/gradebook")


@bp.route("")
@staff_required
def index() -> Any:
    return render_template("gradebook/index.html", tracks=queries.tracks_with_counts())


@bp.route("/<track_slug>.csv")
@staff_required
def track_csv(track_slug: str) -> Any:
    track = queries.find_track(track_slug) or abort(404)
    filename = f"gradebook-{track.slug}-{now_utc():%Y%m%d}.csv"
    # Streamed: the first lines leave at once, and a 20 000-student export never sits in memory whole.
    lines = streamed_csv_lines(track, Filters.from_args(request.args), now_utc())
    return Response(
        stream_with_context(line.encode("utf-8") for line in lines),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _assign_form(book: Any) -> AssignCohortForm:
    form = AssignCohortForm(prefix="assign")
    form.cohort.choices = [("", "No cohort"), *((str(c.id), c.name) for c in book.cohorts)]
    return form


def _render_track(
    track: Track, status: int = 200, cohort_form: CohortForm | None = None, assign_form: Any = None
) -> Any:
    page = page_number(request.args)
    book = build_gradebook(track, Filters.from_args(request.args), now_utc(), page=page)
    return (
        render_template(
            "gradebook/track.html",
            book=book,
            format_percent=format_percent,
            cohort_form=cohort_form or CohortForm(prefix="cohort", formdata=None),
            assign_form=assign_form or _assign_form(book),
        ),
        status,
    )


def _show_error(form: Any, error: DomainError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


@bp.route("/<track_slug>")
@staff_required
@kept_page
def track(track_slug: str) -> Any:
    track = queries.find_track(track_slug) or abort(404)
    return _render_track(track)


@bp.route("/<track_slug>/cohorts", methods=["POST"])
@staff_required
def create_cohort(track_slug: str) -> Any:
    track = queries.find_track(track_slug) or abort(404)
    form = CohortForm(prefix="cohort")
    if form.validate_on_submit():
        try:
            cohort = operations.create_cohort(
                acting_user(), track, form.name.data or "", form.starts_on.data, now_utc()
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            flash(f"Cohort {cohort.name} created, starting {cohort.starts_at:%d %b %Y}.", "success")
            return redirect(url_for(".track", track_slug=track.slug))
    return _render_track(track, 422, cohort_form=form)


@bp.route("/<track_slug>/cohorts/assign", methods=["POST"])
@staff_required
def assign_cohort(track_slug: str) -> Any:
    track = queries.find_track(track_slug) or abort(404)
    form = AssignCohortForm(prefix="assign")
    form.cohort.choices = [
        ("", "No cohort"),
        *((str(c.id), c.name) for c in operations.track_cohorts(track.id)),
    ]
    if form.validate_on_submit():
        try:
            changed = operations.assign_cohort(
                acting_user(),
                track,
                list(form.students.data or []),
                int(form.cohort.data) if form.cohort.data else None,
            )
        except DomainError as error:
            _show_error(form, error)
        else:
            flash(f"{changed} student{'' if changed == 1 else 's'} moved.", "success")
            return redirect(url_for(".track", track_slug=track.slug))
    elif form.students.errors:
        form.students.errors = ["Choose students of this track."]
    return _render_track(track, 422, assign_form=form)

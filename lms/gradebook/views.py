"""Gradebook pages (staff only): the tracks, one track's table, and the same table as CSV."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template, request

from lms.accounts.access import staff_required
from lms.clock import now_utc
from lms.gradebook import queries
from lms.gradebook.table import Filters, build_gradebook, csv_lines, format_percent

bp = Blueprint("gradebook", __name__, url_prefix="/gradebook")


@bp.route("")
@staff_required
def index() -> Any:
    return render_template("gradebook/index.html", tracks=queries.tracks_with_counts())


@bp.route("/<track_slug>.csv")
@staff_required
def track_csv(track_slug: str) -> Any:
    track = queries.find_track(track_slug) or abort(404)
    book = build_gradebook(track, Filters.from_args(request.args), now_utc(), page=None)
    filename = f"gradebook-{track.slug}-{now_utc():%Y%m%d}.csv"
    return Response(
        "".join(csv_lines(book)).encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/<track_slug>")
@staff_required
def track(track_slug: str) -> Any:
    track = queries.find_track(track_slug) or abort(404)
    page = request.args.get("page", 1, type=int) or 1
    book = build_gradebook(track, Filters.from_args(request.args), now_utc(), page=page)
    return render_template("gradebook/track.html", book=book, format_percent=format_percent)

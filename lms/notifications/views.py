"""Notification pages: the list (the bell's target), its unread count, preferences, one-click unsubscribe, the
private calendar feed, and the admins' dead-letter list of background jobs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for

from lms.accounts.access import acting_user, admin_required, login_required, public
from lms.errors import DomainError
from lms.extensions import csrf
from lms.notifications import operations
from lms.notifications.models import CHANNELS

bp = Blueprint("notifications", __name__)

CHANNEL_LABELS = {"email": "Email and in-app", "in_app": "In-app only", "off": "Off"}


@bp.route("/notifications")
@login_required
def index() -> Any:
    user = acting_user()
    return render_template(
        "notifications/index.html",
        notices=operations.notifications_of(user.id),
        unread=operations.unread_count(user.id),
    )


@bp.route("/notifications/unread.json")
@login_required
def unread() -> Any:
    response = jsonify(unread=operations.unread_count(acting_user().id))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def mark_read(notification_id: int) -> Any:
    operations.own_notification(acting_user().id, notification_id) or abort(404)  # another's: as if missing
    operations.mark_read(acting_user().id, notification_id)
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/read-all", methods=["POST"])
@login_required
def mark_all_read() -> Any:
    count = operations.mark_read(acting_user().id)
    flash(f"{count} notification{'s' if count != 1 else ''} marked as read.", "success")
    return redirect(url_for("notifications.index"))


@bp.route("/notifications/<int:notification_id>/open", methods=["POST"])
@login_required
def open_notice(notification_id: int) -> Any:
    """Mark one notice read and follow its link (the list's main action)."""
    notice = operations.own_notification(acting_user().id, notification_id) or abort(404)
    operations.mark_read(acting_user().id, notice.id)
    return redirect(notice.link or url_for("notifications.index"))


@bp.route("/notifications/preferences", methods=["GET", "POST"])
@login_required
def preferences() -> Any:
    user = acting_user()
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            operations.save_preferences(user.id, user.role, dict(request.form))
        except DomainError as error:
            errors[error.field or "form"] = error.message
        else:
            flash("Your notification choices are saved.", "success")
            return redirect(url_for("notifications.preferences"))
    return render_template(
        "notifications/preferences.html",
        kinds=operations.kinds_for(user.role),
        chosen=operations.preferences_of(user.id),
        channels=CHANNELS,
        labels=CHANNEL_LABELS,
        errors=errors,
        feed_url=operations.calendar_feed_url(user.id),
    ), (422 if errors else 200)


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof; mail providers POST here with no session (RFC 8058 one-click)
@public
def unsubscribe(token: str) -> Any:
    found = operations.read_unsubscribe_token(token)
    if found is None:
        return render_template("notifications/unsubscribe.html", invalid=True), 404
    user_id, kind = found
    if request.method == "POST":
        operations.unsubscribe(user_id, kind)
        return render_template("notifications/unsubscribe.html", done=True, kind=operations.KINDS[kind])
    return render_template("notifications/unsubscribe.html", kind=operations.KINDS[kind], token=token)


@bp.route("/notifications/calendar", methods=["POST"])
@login_required
def new_calendar_feed() -> Any:
    """Make (or replace) the private calendar address; the old one stops working at once."""
    operations.renew_calendar_feed(acting_user().id)
    flash(
        "Your calendar address is new: the old one no longer works. Subscribe again with this one.", "success"
    )
    return redirect(url_for("notifications.preferences") + "#calendar")


@bp.route("/notifications/calendar/stop", methods=["POST"])
@login_required
def stop_calendar_feed() -> Any:
    operations.revoke_calendar_feed(acting_user().id)
    flash("Your calendar address no longer works.", "success")
    return redirect(url_for("notifications.preferences") + "#calendar")


@bp.route("/calendar/<token>.ics")
@public
def calendar_feed(token: str) -> Any:
    """The private iCal feed: the token is the key (calendar apps send no cookies)."""
    body = operations.calendar_for_token(token)
    if body is None:
        abort(404)
    return Response(
        body,
        mimetype="text/calendar",
        headers={"Cache-Control": "private, no-store", "Content-Disposition": 'inline; filename="lms.ics"'},
    )


@bp.route("/admin/jobs")
@admin_required
def dead_jobs() -> Any:
    return render_template("notifications/dead_jobs.html", jobs=operations.dead_jobs())


@bp.route("/admin/jobs/<int:job_id>/retry", methods=["POST"])
@admin_required
def retry_job(job_id: int) -> Any:
    if not operations.retry_dead(job_id):
        abort(404)
    flash(f"Job #{job_id} is queued again.", "success")
    return redirect(url_for("notifications.dead_jobs"))


@bp.route("/admin/jobs/<int:job_id>/discard", methods=["POST"])
@admin_required
def discard_job(job_id: int) -> Any:
    if not operations.discard_dead(job_id):
        abort(404)
    flash(f"Job #{job_id} is discarded.", "success")
    return redirect(url_for("notifications.dead_jobs"))

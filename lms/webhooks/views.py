"""The admins' webhook pages: endpoints (register, enable or disable, rotate the secret, delete) and the delivery
log with redelivery. A new secret is shown once, in the answer to the POST that made it, and never again."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for

from lms.accounts.access import acting_user, admin_required
from lms.errors import DomainError
from lms.extensions import db
from lms.webhooks import operations
from lms.webhooks.forms import EndpointForm

bp = Blueprint("webhooks", __name__)


def _index(form: EndpointForm, status: int = 200) -> Any:
    return (
        render_template("webhooks/index.html", form=form, endpoints=operations.list_endpoints()),
        status,
    )


def _endpoint_or_404(endpoint_id: int) -> Any:
    endpoint = operations.get_endpoint(endpoint_id)
    if endpoint is None:
        abort(404)
    return endpoint


def _secret_page(endpoint: Any, rotated: bool) -> Any:
    response = render_template("webhooks/secret.html", endpoint=endpoint, rotated=rotated)
    return response, 200, {"Cache-Control": "no-store"}


@bp.route("/admin/webhooks")
@admin_required
def index() -> Any:
    return _index(EndpointForm())


@bp.route("/admin/webhooks", methods=["POST"])
@admin_required
def create() -> Any:
    form = EndpointForm()
    if not form.validate_on_submit():
        return _index(form, 422)
    try:
        endpoint = operations.create_endpoint(
            acting_user().id, form.url.data or "", form.description.data or "", list(form.events.data or [])
        )
    except DomainError as error:
        db.session.rollback()
        field = getattr(form, error.field, None) if error.field else None
        if field is not None:
            field.errors = [*field.errors, error.message]
        else:
            form.form_errors.append(error.message)
        return _index(form, 422)
    return _secret_page(endpoint, rotated=False)


@bp.route("/admin/webhooks/<int:endpoint_id>")
@admin_required
def endpoint(endpoint_id: int) -> Any:
    found = _endpoint_or_404(endpoint_id)
    return render_template(
        "webhooks/endpoint.html", endpoint=found, deliveries=operations.deliveries_of(found.id)
    )


def _change(endpoint_id: int, change: Any, done: str) -> Any:
    _endpoint_or_404(endpoint_id)
    try:
        change(acting_user().id, endpoint_id)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))
    flash(done, "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))


@bp.route("/admin/webhooks/<int:endpoint_id>/enable", methods=["POST"])
@admin_required
def enable(endpoint_id: int) -> Any:
    return _change(
        endpoint_id, lambda actor, eid: operations.set_enabled(actor, eid, True), "The endpoint is enabled."
    )


@bp.route("/admin/webhooks/<int:endpoint_id>/disable", methods=["POST"])
@admin_required
def disable(endpoint_id: int) -> Any:
    return _change(
        endpoint_id,
        lambda actor, eid: operations.set_enabled(actor, eid, False),
        "The endpoint is disabled: it gets no new deliveries.",
    )


@bp.route("/admin/webhooks/<int:endpoint_id>/delete", methods=["POST"])
@admin_required
def delete(endpoint_id: int) -> Any:
    _endpoint_or_404(endpoint_id)
    try:
        operations.delete_endpoint(acting_user().id, endpoint_id)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))
    flash("The endpoint is deleted. Its delivery log stays on its page.", "success")
    return redirect(url_for("webhooks.index"))


@bp.route("/admin/webhooks/<int:endpoint_id>/rotate", methods=["POST"])
@admin_required
def rotate(endpoint_id: int) -> Any:
    _endpoint_or_404(endpoint_id)
    try:
        endpoint = operations.rotate_secret(acting_user().id, endpoint_id)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id))
    return _secret_page(endpoint, rotated=True)


@bp.route("/admin/webhooks/deliveries/<int:delivery_id>")
@admin_required
def delivery(delivery_id: int) -> Any:
    found = operations.get_delivery(delivery_id)
    if found is None:
        abort(404)
    return render_template("webhooks/delivery.html", delivery=found)


@bp.route("/admin/webhooks/deliveries/<int:delivery_id>/redeliver", methods=["POST"])
@admin_required
def redeliver(delivery_id: int) -> Any:
    if operations.get_delivery(delivery_id) is None:
        abort(404)
    try:
        operations.redeliver(acting_user().id, delivery_id)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("webhooks.delivery", delivery_id=delivery_id))
    flash(
        "Queued for redelivery: the same payload and webhook-id, a fresh timestamp and signature.", "success"
    )
    return redirect(url_for("webhooks.delivery", delivery_id=delivery_id))

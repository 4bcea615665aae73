"""/admin/api-tokens: admins create tokens (the secret shown once), see their last use, and revoke them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for

from lms.accounts.access import acting_user, admin_required
from lms.api import tokens
from lms.api.forms import TokenForm
from lms.clock import now_utc
from lms.errors import DomainError, NotFound
from lms.extensions import db

bp = Blueprint("api_tokens", __name__, url_prefix="/admin/api-tokens")


def _page(form: TokenForm, status: int = 200, secret: str | None = None, created: Any = None) -> Any:
    response = render_template(
        "api/tokens.html",
        form=form,
        tokens=tokens.list_tokens(),
        now=now_utc(),
        secret=secret,
        created=created,
    )
    return response, status, {"Cache-Control": "no-store"}


@bp.route("", methods=["GET"])
@admin_required
def index() -> Any:
    return _page(TokenForm())


@bp.route("", methods=["POST"])
@admin_required
def create() -> Any:
    form = TokenForm()
    if form.validate_on_submit():
        try:
            token, secret = tokens.create_token(
                acting_user(), form.name.data or "", form.scopes.data or [], form.expires_on.data
            )
        except DomainError as error:
            db.session.rollback()
            target = getattr(form, error.field or "", None)
            if target is not None:
                target.errors = [*target.errors, error.message]
            else:
                form.form_errors.append(error.message)
        else:
            # Shown on this response only: never stored, never put in a flash or the session.
            return _page(TokenForm(formdata=None), 201, secret=secret, created=token)
    return _page(form, 422)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@admin_required
def revoke(token_id: int) -> Any:
    try:
        token = tokens.revoke_token(acting_user(), token_id)
    except NotFound:
        db.session.rollback()
        flash("There is no such token.", "error")
        return redirect(url_for(".index")), 303
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".index")), 303
    flash(f"Token “{token.name}” revoked: requests with it are refused from now on.", "success")
    return redirect(url_for(".index")), 303

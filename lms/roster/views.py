"""The admin's bulk enrolment pages: upload a CSV, see every row's outcome, apply it, see what was done."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

from lms.accounts.access import acting_user, admin_required
from lms.errors import DomainError
from lms.extensions import db
from lms.roster import operations
from lms.roster.forms import RosterApplyForm, RosterUploadForm

bp = Blueprint("roster", __name__, url_prefix="/admin/enrolments")


def _upload_page(form: RosterUploadForm, status: int = 200) -> Any:
    return render_template("roster/upload.html", form=form, max_rows=operations.MAX_ROWS), status


@bp.route("/import", methods=["GET", "POST"])
@admin_required
def upload() -> Any:
    """GET: the upload form. POST: the preview (staged for its Apply button when it has no error row)."""
    form = RosterUploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, 200 if not form.errors else 422)
    data = form.file.data.read()
    try:
        preview = operations.preview_roster(data, acting_user())
    except DomainError as error:
        form.file.errors = [*form.file.errors, error.message]
        return _upload_page(form, 422)
    apply_form = None
    if preview.ok:
        staged = operations.stage_roster(acting_user(), data, form.file.data.filename or "")
        apply_form = RosterApplyForm(formdata=None, key=staged.key, sha256=staged.sha256)
    page = render_template(
        "roster/preview.html",
        preview=preview,
        apply_form=apply_form,
        upload_form=RosterUploadForm(formdata=None),
    )
    return page, 200 if preview.ok else 422


@bp.route("/import/apply", methods=["POST"])
@admin_required
def apply() -> Any:
    form = RosterApplyForm()
    if not form.validate_on_submit():
        return render_template("roster/refused.html", message="The form expired: upload the file again."), 400
    try:
        staged = operations.staged_roster(acting_user(), form.key.data or "", form.sha256.data or "")
        result = operations.apply_roster(staged.content, acting_user(), staged_key=staged.key)
    except DomainError as error:
        db.session.rollback()
        return render_template("roster/refused.html", message=error.message), 409
    if not result.applied:  # the accounts or tracks changed since the preview: rows are errors now
        page = render_template(
            "roster/preview.html",
            preview=result.preview,
            apply_form=None,
            upload_form=RosterUploadForm(formdata=None),
            refused=True,
        )
        return page, 422
    return render_template("roster/result.html", result=result)

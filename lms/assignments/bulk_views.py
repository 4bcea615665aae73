"""Staff pages for a whole assignment: every latest submission in one zip, feedback files back from a zip
(uploaded, reviewed, then confirmed), and extensions."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from wtforms.fields.choices import SelectChoice

from lms.accounts.access import acting_user, staff_required
from lms.assignments import operations, storage
from lms.assignments.forms import ConfirmZipForm, ExtensionForm, FeedbackZipForm
from lms.assignments.views import bp, found_or_404, render_too_large, show_form_error
from lms.clock import now_utc
from lms.errors import DomainError, NotFound
from lms.extensions import db


@bp.route("/grading/assignments/<int:assignment_id>/submissions.zip")
@staff_required
def download_all(assignment_id: int) -> Any:
    found = found_or_404(operations.get_assignment, assignment_id)
    archive = operations.build_submissions_zip(found)
    return storage.file_response(
        archive, "application/zip", f"{found.track.slug}-{found.slug}-submissions.zip", remove_after=True
    )


@bp.route("/grading/assignments/<int:assignment_id>/feedback-zip", methods=["GET", "POST"])
@staff_required
def feedback_zip(assignment_id: int) -> Any:
    """Upload the zip and see what it would attach; nothing is attached before the confirmation."""
    found = found_or_404(operations.get_assignment, assignment_id)
    form = FeedbackZipForm()
    review = None
    status = 200
    if form.validate_on_submit():
        try:
            review = operations.stage_feedback_zip(found, form.file.data.stream)
        except storage.FileTooLarge as error:
            return render_too_large(error.limit_bytes)
        except DomainError as error:
            show_form_error(form, error)
    if form.errors or form.form_errors:
        status = 422
    return render_template(
        "assignments/feedback_zip.html",
        assignment=found,
        form=form,
        review=review,
        confirm_form=ConfirmZipForm(data={"token": review.token}) if review else None,
    ), status


@bp.route("/grading/assignments/<int:assignment_id>/feedback-zip/confirm", methods=["POST"])
@staff_required
def confirm_feedback_zip(assignment_id: int) -> Any:
    found = found_or_404(operations.get_assignment, assignment_id)
    form = ConfirmZipForm()
    if not form.validate_on_submit():
        flash("Upload the zip again: this confirmation was not complete.", "error")
        return redirect(url_for(".feedback_zip", assignment_id=assignment_id))
    try:
        review = operations.apply_feedback_zip(acting_user(), found, form.token.data, now_utc())
    except NotFound:
        flash("There is no such uploaded zip. Upload it again.", "error")
        return redirect(url_for(".feedback_zip", assignment_id=assignment_id))
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for(".feedback_zip", assignment_id=assignment_id))
    attached = len(review.matches)
    flash(f"{attached} feedback file{'' if attached == 1 else 's'} attached.", "success")
    for problem in review.problems:
        flash(f"Not attached: {problem.where}: {problem.message}", "error")
    return redirect(url_for(".queue"))


@bp.route("/grading/assignments/<int:assignment_id>/extensions", methods=["GET", "POST"])
@staff_required
def extensions(assignment_id: int) -> Any:
    found = found_or_404(operations.get_assignment, assignment_id)
    rows = operations.extension_overview(found)
    form = ExtensionForm()
    form.student.choices = [
        SelectChoice(row["user"].id, f"{row['user'].full_name} ({row['user'].email})") for row in rows
    ]
    if form.validate_on_submit():
        try:
            operations.grant_extension(
                acting_user(), found, form.student.data, form.due_at_utc(), form.reason.data, now_utc()
            )
        except DomainError as error:
            db.session.rollback()
            show_form_error(form, error)
        else:
            flash("The extension is granted.", "success")
            return redirect(url_for(".extensions", assignment_id=assignment_id))
    status = 422 if form.errors else 200
    return render_template("assignments/extensions.html", assignment=found, rows=rows, form=form), status

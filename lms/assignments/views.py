"""Assignment pages for students (the brief, uploads, a version and its feedback, file downloads), the blueprint
itself, and what the staff pages (desk_views, bulk_views) share with them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response

from lms.accounts.access import acting_user, login_required, roles_required
from lms.accounts.models import Role
from lms.assignments import filetypes, operations, storage
from lms.assignments.forms import ActionForm, RegradeForm, SubmitForm, UploadForm
from lms.assignments.models import PENDING, Assignment, Submission, SubmissionState
from lms.clock import now_utc
from lms.errors import DomainError, NotFound, error_response, wants_json
from lms.extensions import db, limiter

bp = Blueprint("assignments", __name__)
student_required = roles_required(Role.STUDENT)
T = TypeVar("T")


def show_form_error(form: Any, error: DomainError) -> None:
    """Put an operation's refusal beside the field it names, or above the form."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def saved_rubric_form(
    save: Callable[..., Any], actor: Any, submission: Any, form: Any, levels: Any, comments: Any
) -> bool:
    """Run a rubric-saving operation (a grade, a second mark, a moderator's decision) with a posted GradeForm:
    True once saved; on a refusal, roll back, show it on the form and return False."""
    try:
        save(
            actor,
            submission,
            levels,
            comments,
            form.overall_comment.data or "",
            form.decision.data,
            now_utc(),
        )
    except DomainError as error:
        db.session.rollback()
        show_form_error(form, error)
        return False
    return True


def found_or_404(fn: Callable[..., T], *args: Any) -> T:
    """What a lookup finds; a page answers NotFound with 404."""
    try:
        return fn(*args)
    except NotFound:
        abort(404)


# ---- the "File too large" page -----------------------------------------------------------------------------


def _assignment_of_request() -> Assignment | None:
    """The assignment the refused upload was for, from the route's arguments (None when there is none)."""
    args = request.view_args or {}
    try:
        if "track_slug" in args and "slug" in args:
            return operations.find_assignment(args["track_slug"], args["slug"])
        if "submission_id" in args:
            submission = operations.get_submission_for(acting_user(), args["submission_id"])
            return submission.assignment
        if "assignment_id" in args:
            return operations.get_assignment(args["assignment_id"])
    except (NotFound, AttributeError):  # AttributeError: nobody is signed in
        return None
    return None


def render_too_large(limit_bytes: int | None) -> Any:
    """The 413 page: the limit, the file's size when the request said it, and the way back to the assignment."""
    limit_mb = (limit_bytes or 0) // (1024 * 1024)
    if wants_json():
        return error_response(413, f"The file is larger than this assignment accepts ({limit_mb} MB).")
    db.session.rollback()
    assignment = _assignment_of_request()
    if assignment is not None and request.endpoint == "assignments.upload":
        back = url_for(".assignment", track_slug=assignment.track.slug, slug=assignment.slug)
    elif assignment is not None and "submission_id" in (request.view_args or {}):
        back = url_for(".grade", submission_id=request.view_args["submission_id"])  # type: ignore[index]
    elif assignment is not None:
        back = url_for(".feedback_zip", assignment_id=assignment.id)
    else:
        back = None
    return render_template(
        "assignments/too_large.html",
        assignment=assignment,
        limit_mb=limit_mb,
        size=request.content_length,
        back=back,
    ), 413


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> Any:
    """A body over the site's limit (MAX_CONTENT_LENGTH), refused before the view ran."""
    return render_too_large(request.max_content_length)


# ---- students ----------------------------------------------------------------------------------------------


def _render_assignment(assignment: Assignment, status: int = 200, **forms: Any) -> Any:
    user = acting_user()
    deadlines = operations.student_deadlines(user.id, assignment) if not user.is_staff else None
    history = operations.submissions_of(user.id, assignment.id) if deadlines is not None else []
    draft = next((s for s in history if s.state_enum is SubmissionState.DRAFT), None)
    pending = next((s for s in history if s.state_enum in PENDING), None)
    passed = any(s.state_enum is SubmissionState.RELEASED for s in history)
    revising = any(s.state_enum is SubmissionState.RETURNED for s in history)
    closed = deadlines is not None and deadlines.is_closed(now_utc()) and not revising
    return render_template(
        "assignments/assignment.html",
        assignment=assignment,
        deadlines=deadlines,
        history=[s for s in history if s.state_enum is not SubmissionState.REPLACED],
        stored_drafts=operations.deletable_drafts(history),
        quota=operations.quota_of(history) if deadlines is not None else None,
        draft=draft,
        pending=pending,
        passed=passed,
        revising=revising,
        closed=closed,
        now=now_utc(),
        accept=",".join(filetypes.ACCEPT[f] for f in assignment.formats),
        upload_form=forms.get("upload_form") or UploadForm(),
        submit_form=forms.get("submit_form") or SubmitForm(),
    ), status


@bp.route("/assignments/<track_slug>/<slug>")
@login_required
def assignment(track_slug: str, slug: str) -> Any:
    return _render_assignment(found_or_404(operations.find_assignment, track_slug, slug))


def _upload_limit_key() -> str:
    """Uploads count per signed-in student, wherever they come from (one student, many tabs or addresses)."""
    user_id = getattr(acting_user(), "id", None)  # runs before the access check: maybe nobody is signed in
    return f"upload:{user_id}" if user_id is not None else f"upload-address:{request.remote_addr}"


@bp.route("/assignments/<track_slug>/<slug>/upload", methods=["POST"])
@student_required
@limiter.limit(lambda: current_app.config["UPLOAD_LIMIT_PER_USER"], key_func=_upload_limit_key)
def upload(track_slug: str, slug: str) -> Any:
    found = found_or_404(operations.find_assignment, track_slug, slug)
    form = UploadForm()
    if form.validate_on_submit():
        file = form.file.data
        try:
            operations.upload_draft(acting_user(), found, file.stream, file.filename, now_utc())
        except storage.FileTooLarge as error:
            return render_too_large(error.limit_bytes)
        except DomainError as error:
            show_form_error(form, error)
        else:
            flash("Your file is uploaded as a draft. Check it, then submit it for grading.", "success")
            return redirect(url_for(".assignment", track_slug=track_slug, slug=slug))
    return _render_assignment(found, 422, upload_form=form)


@bp.route("/assignments/<track_slug>/<slug>/submit", methods=["POST"])
@student_required
def submit(track_slug: str, slug: str) -> Any:
    found = found_or_404(operations.find_assignment, track_slug, slug)
    form = SubmitForm()
    if form.validate_on_submit():
        try:
            submission = operations.submit_draft(acting_user(), found, form.confirm.data, now_utc())
        except DomainError as error:
            db.session.rollback()
            show_form_error(form, error)
        else:
            note = (
                f" It is {operations.describe_duration(submission.late_seconds)} late."
                if submission.is_late
                else ""
            )
            flash(f"Version {submission.version} is submitted for grading.{note}", "success")
            return redirect(url_for(".assignment", track_slug=track_slug, slug=slug))
    return _render_assignment(found, 422, submit_form=form)


@bp.route("/assignments/<track_slug>/<slug>/drafts/<int:submission_id>/delete", methods=["POST"])
@student_required
def delete_draft(track_slug: str, slug: str, submission_id: int) -> Any:
    """The student removes the file of one of their own drafts never handed in (the history keeps the row)."""
    found = found_or_404(operations.find_assignment, track_slug, slug)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            removed = operations.delete_draft(acting_user(), found, submission_id, now_utc())
        except NotFound:
            db.session.rollback()
            abort(404)
        except DomainError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            flash(f"The draft {removed.original_name} is deleted.", "success")
            return redirect(url_for(".assignment", track_slug=track_slug, slug=slug))
    return _render_assignment(found, 422, upload_form=_with_errors(UploadForm(formdata=None), form))


def _with_errors(target: Any, source: Any) -> Any:
    target.form_errors.extend(source.form_errors or [e for errors in source.errors.values() for e in errors])
    return target


def _render_submission(
    submission: Submission, status: int = 200, regrade_form: RegradeForm | None = None
) -> Any:
    regrades = operations.regrades_for(submission.id)
    history = operations.submissions_of(submission.user_id, submission.assignment_id)
    mine = submission.user_id == acting_user().id
    released = submission.grade if submission.is_released else None
    files = operations.feedback_files_of(submission.id) if released else []
    return render_template(
        "assignments/submission.html",
        submission=submission,
        assignment=submission.assignment,
        grade=released,
        lines=operations.breakdown(released, submission.assignment) if released else [],
        feedback_file=operations.released_feedback_file(submission, files),
        regrades=regrades,
        can_regrade=mine and operations.can_request_regrade(submission, regrades, history),
        file_label=submission.original_name if mine else operations.staff_file_name(submission),
        regrade_form=regrade_form or RegradeForm(),
    ), status


@bp.route("/assignments/submissions/<int:submission_id>")
@login_required
def submission(submission_id: int) -> Any:
    return _render_submission(found_or_404(operations.get_submission_for, acting_user(), submission_id))


@bp.route("/assignments/submissions/<int:submission_id>/regrade", methods=["POST"])
@student_required
def request_regrade(submission_id: int) -> Any:
    found = found_or_404(operations.get_submission_for, acting_user(), submission_id)
    form = RegradeForm()
    if form.validate_on_submit():
        try:
            operations.request_regrade(acting_user(), found, form.reason.data, now_utc())
        except NotFound:
            abort(404)
        except DomainError as error:
            db.session.rollback()
            show_form_error(form, error)
        else:
            flash("Your regrade request is sent. You will see the answer on this page.", "success")
            return redirect(url_for(".submission", submission_id=found.id))
        found = found_or_404(operations.get_submission_for, acting_user(), submission_id)
    return _render_submission(found, 422, regrade_form=form)


def send_submission_file(found: Submission, inline: bool = False) -> Response:
    """The version's file: to staff under blind marking as "submission-N.pdf", else under its own name."""
    if acting_user().is_staff:
        name = operations.staff_file_name(found)
    else:
        name = filetypes.download_name(found.original_name, found.detected_type)
    path = storage.path_for(found.stored_name)
    if not path.is_file():
        abort(404)
    return storage.file_response(path, filetypes.MIME_TYPES[found.detected_type], name, inline=inline)


@bp.route("/assignments/submissions/<int:submission_id>/file")
@login_required
def download(submission_id: int) -> Any:
    return send_submission_file(found_or_404(operations.get_submission_for, acting_user(), submission_id))


@bp.route("/assignments/submissions/<int:submission_id>/feedback-files/<int:file_id>")
@login_required
def feedback_file(submission_id: int, file_id: int) -> Any:
    """A feedback file: the student's once the grade is released, any version for staff."""
    found = found_or_404(operations.get_submission_for, acting_user(), submission_id)
    feedback = found_or_404(operations.get_feedback_file, acting_user(), found, file_id)
    path = storage.path_for(feedback.stored_name)
    if not path.is_file():
        abort(404)
    name = filetypes.download_name(feedback.original_name, feedback.detected_type)
    return storage.file_response(path, filetypes.MIME_TYPES[feedback.detected_type], name)

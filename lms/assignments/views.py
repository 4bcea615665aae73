"""Assignment pages: the brief and uploads for students, the grading queue and rubric for staff, file downloads."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from lms.accounts.access import acting_user, login_required, roles_required, staff_required
from lms.accounts.models import Role
from lms.assignments import filetypes, operations, storage
from lms.assignments.forms import (
    ActionForm,
    ExtensionForm,
    GradeForm,
    RegradeAnswerForm,
    RegradeForm,
    SubmitForm,
    UploadForm,
    rubric_inputs,
)
from lms.assignments.models import PENDING, Assignment, Submission, SubmissionState
from lms.clock import now_utc
from lms.errors import DomainError, NotFound
from lms.extensions import db

bp = Blueprint("assignments", __name__)
student_required = roles_required(Role.STUDENT)
QUEUE_PAGE_SIZE = 50


def _show_error(form: Any, error: DomainError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def _or_404(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except NotFound:
        abort(404)


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
    return _render_assignment(_or_404(operations.find_assignment, track_slug, slug))


@bp.route("/assignments/<track_slug>/<slug>/upload", methods=["POST"])
@student_required
def upload(track_slug: str, slug: str) -> Any:
    found = _or_404(operations.find_assignment, track_slug, slug)
    form = UploadForm()
    if form.validate_on_submit():
        file = form.file.data
        try:
            operations.upload_draft(acting_user(), found, file.stream, file.filename, now_utc())
        except storage.FileTooLarge as error:
            request.max_content_length = error.limit_bytes  # the 413 page names this assignment's limit
            abort(413)
        except DomainError as error:
            _show_error(form, error)
        else:
            flash("Your file is uploaded as a draft. Check it, then submit it for grading.", "success")
            return redirect(url_for(".assignment", track_slug=track_slug, slug=slug))
    return _render_assignment(found, 422, upload_form=form)


@bp.route("/assignments/<track_slug>/<slug>/submit", methods=["POST"])
@student_required
def submit(track_slug: str, slug: str) -> Any:
    found = _or_404(operations.find_assignment, track_slug, slug)
    form = SubmitForm()
    if form.validate_on_submit():
        try:
            submission = operations.submit_draft(acting_user(), found, form.confirm.data, now_utc())
        except DomainError as error:
            _show_error(form, error)
        else:
            note = (
                f" It is {operations.describe_duration(submission.late_seconds)} late."
                if submission.is_late
                else ""
            )
            flash(f"Version {submission.version} is submitted for grading.{note}", "success")
            return redirect(url_for(".assignment", track_slug=track_slug, slug=slug))
    return _render_assignment(found, 422, submit_form=form)


def _render_submission(
    submission: Submission, status: int = 200, regrade_form: RegradeForm | None = None
) -> Any:
    regrades = operations.regrades_for(submission.id)
    history = operations.submissions_of(submission.user_id, submission.assignment_id)
    mine = submission.user_id == acting_user().id
    return render_template(
        "assignments/submission.html",
        submission=submission,
        assignment=submission.assignment,
        grade=submission.grade if submission.is_released else None,
        regrades=regrades,
        can_regrade=mine and operations.can_request_regrade(submission, regrades, history),
        file_label=submission.original_name
        if mine or operations.grader_sees_name(submission)
        else f"submission-{submission.id}.{filetypes.EXTENSIONS[submission.detected_type]}",
        regrade_form=regrade_form or RegradeForm(),
    ), status


@bp.route("/assignments/submissions/<int:submission_id>")
@login_required
def submission(submission_id: int) -> Any:
    return _render_submission(_or_404(operations.get_submission_for, acting_user(), submission_id))


@bp.route("/assignments/submissions/<int:submission_id>/regrade", methods=["POST"])
@student_required
def request_regrade(submission_id: int) -> Any:
    found = _or_404(operations.get_submission_for, acting_user(), submission_id)
    form = RegradeForm()
    if form.validate_on_submit():
        try:
            operations.request_regrade(acting_user(), found, form.reason.data, now_utc())
        except NotFound:
            abort(404)
        except DomainError as error:
            _show_error(form, error)
        else:
            flash("Your regrade request is sent. You will see the answer on this page.", "success")
            return redirect(url_for(".submission", submission_id=found.id))
    return _render_submission(found, 422, regrade_form=form)


def _send_submission_file(found: Submission, inline: bool = False) -> Response:
    if acting_user().is_staff and not operations.grader_sees_name(found):
        name = f"submission-{found.id}.{filetypes.EXTENSIONS[found.detected_type]}"
    else:
        name = filetypes.download_name(found.original_name, found.detected_type)
    path = storage.path_for(found.stored_name)
    if not path.is_file():
        abort(404)
    return storage.file_response(path, filetypes.MIME_TYPES[found.detected_type], name, inline=inline)


@bp.route("/assignments/submissions/<int:submission_id>/file")
@login_required
def download(submission_id: int) -> Any:
    return _send_submission_file(_or_404(operations.get_submission_for, acting_user(), submission_id))


# ---- staff -------------------------------------------------------------------------------------------------


@bp.route("/grading")
@staff_required
def queue() -> Any:
    track = request.args.get("track", "")
    state = request.args.get("state", "todo")
    state = state if state in operations.QUEUE_FILTERS else "todo"
    late = request.args.get("late", "")
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    rows, total = operations.queue_page(track, state, late, page, QUEUE_PAGE_SIZE)
    return render_template(
        "assignments/queue.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // QUEUE_PAGE_SIZE)),
        filters={"track": track, "state": state, "late": late},
        states=operations.QUEUE_FILTERS,
        tracks=operations.queue_tracks(),
        assignments=operations.active_assignments(),
    )


def _render_grading(
    found: Submission,
    status: int = 200,
    form: GradeForm | None = None,
    values: dict[int, dict[str, str]] | None = None,
) -> Any:
    grade = found.grade
    if values is None:
        values = {}
        for criterion in found.assignment.active_criteria:
            score = grade.score_for(criterion.id) if grade else None
            values[criterion.id] = (
                {"level": score.level_name or "", "comment": score.comment} if score else {}
            )
    if form is None:
        form = GradeForm(
            data={
                "overall_comment": grade.overall_comment if grade else "",
                "decision": grade.decision if grade else None,
            }
        )
    return render_template(
        "assignments/grade.html",
        submission=found,
        assignment=found.assignment,
        grade=grade,
        label=operations.submission_label(found),
        show_name=operations.grader_sees_name(found),
        form=form,
        values=values,
        action_form=ActionForm(),
        answer_form=RegradeAnswerForm(),
        **operations.grading_history(found),
    ), status


@bp.route("/grading/submissions/<int:submission_id>", methods=["GET", "POST"])
@staff_required
def grade(submission_id: int) -> Any:
    found = _or_404(operations.get_submission_for, acting_user(), submission_id)
    if request.method == "GET":
        return _render_grading(found)
    form = GradeForm()
    levels, comments = rubric_inputs(found.assignment, request.form)
    if form.validate_on_submit():
        try:
            operations.save_grade(
                acting_user(),
                found,
                levels,
                comments,
                form.overall_comment.data or "",
                form.decision.data,
                now_utc(),
            )
        except DomainError as error:
            db.session.rollback()
            _show_error(form, error)
        else:
            flash("The grade is saved as a draft. The student sees it once you release it.", "success")
            return redirect(url_for(".grade", submission_id=submission_id))
    values = {cid: {"level": levels[cid] or "", "comment": comments[cid]} for cid in levels}
    found = _or_404(operations.get_submission_for, acting_user(), submission_id)
    return _render_grading(found, 422, form=form, values=values)


@bp.route("/grading/submissions/<int:submission_id>/release", methods=["POST"])
@staff_required
def release(submission_id: int) -> Any:
    found = _or_404(operations.get_submission_for, acting_user(), submission_id)
    if ActionForm().validate_on_submit():
        try:
            grade = operations.release_grade(acting_user(), found, now_utc())
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            outcome = "passed" if grade.decision == "pass" else "returned for revision"
            flash(f"The grade is released: {outcome}. The student can see it now.", "success")
    return redirect(url_for(".grade", submission_id=submission_id))


@bp.route("/grading/submissions/<int:submission_id>/preview")
@staff_required
def preview(submission_id: int) -> Any:
    found = _or_404(operations.get_submission_for, acting_user(), submission_id)
    if found.detected_type != "pdf":
        abort(404)
    return _send_submission_file(found, inline=True)


@bp.route("/grading/regrades/<int:request_id>", methods=["POST"])
@staff_required
def answer_regrade(request_id: int) -> Any:
    regrade = _or_404(operations.get_regrade_request, request_id)
    form = RegradeAnswerForm()
    if form.validate_on_submit():
        try:
            operations.answer_regrade(
                acting_user(), regrade, form.answer.data == "accept", form.response.data, now_utc()
            )
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash("Your answer is sent to the student.", "success")
    else:
        flash(" ".join(m for errors in form.errors.values() for m in errors), "error")
    return redirect(url_for(".grade", submission_id=regrade.submission_id))


@bp.route("/grading/assignments/<int:assignment_id>/submissions.zip")
@staff_required
def download_all(assignment_id: int) -> Any:
    found = _or_404(operations.get_assignment, assignment_id)
    archive = operations.build_submissions_zip(found)
    return storage.file_response(
        archive, "application/zip", f"{found.track.slug}-{found.slug}-submissions.zip", remove_after=True
    )


@bp.route("/grading/assignments/<int:assignment_id>/extensions", methods=["GET", "POST"])
@staff_required
def extensions(assignment_id: int) -> Any:
    found = _or_404(operations.get_assignment, assignment_id)
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
            _show_error(form, error)
        else:
            flash("The extension is granted.", "success")
            return redirect(url_for(".extensions", assignment_id=assignment_id))
    status = 422 if form.errors else 200
    return render_template("assignments/extensions.html", assignment=found, rows=rows, form=form), status

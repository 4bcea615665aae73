"""The grading desk (staff): the queue, a version beside its rubric with previous / next in the queue's filter,
saving and releasing the grade, previews of the work, feedback files, answers to regrade requests."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from lms.accounts.access import acting_user, staff_required
from lms.accounts.kept_pages import kept_page
from lms.assignments import operations, preview, storage
from lms.assignments.forms import (
    ActionForm,
    FeedbackFileForm,
    GradeForm,
    RegradeAnswerForm,
    rubric_inputs,
)
from lms.assignments.marking_views import calibration_gate
from lms.assignments.models import Submission
from lms.assignments.views import (
    bp,
    found_or_404,
    render_too_large,
    saved_rubric_form,
    send_submission_file,
    show_form_error,
)
from lms.clock import now_utc
from lms.errors import DomainError
from lms.extensions import db
from lms.ids import page_number

QUEUE_PAGE_SIZE = 50
# The inline PDF may be framed by our own grading page only; nothing in it is HTML, and the browser may not guess.
PDF_PREVIEW_CSP = "frame-ancestors 'self'"


def _filters() -> operations.QueueFilters:
    return operations.QueueFilters.of(request.args)


@bp.route("/grading")
@staff_required
@kept_page
def queue() -> Any:
    filters = _filters()
    page = page_number(request.args)
    rows, total = operations.queue_page(filters.track, filters.state, filters.late, page, QUEUE_PAGE_SIZE)
    return render_template(
        "assignments/queue.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // QUEUE_PAGE_SIZE)),
        filters={"track": filters.track, "state": filters.state, "late": filters.late},
        link_args=filters.as_args(),
        states=operations.QUEUE_FILTERS,
        tracks=operations.queue_tracks(),
        open_marking=operations.open_marking_counts(),
        assignments=operations.active_assignments(),
    )


def _text_preview(found: Submission) -> preview.TextPreview | None:
    if found.detected_type == "pdf":
        return None
    try:
        return preview.extract_text(storage.path_for(found.stored_name), found.detected_type)
    except preview.PreviewUnavailable:
        return None


def _render_grading(
    found: Submission,
    status: int = 200,
    form: GradeForm | None = None,
    values: dict[int, dict[str, str]] | None = None,
    feedback_form: FeedbackFileForm | None = None,
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
    filters = _filters()
    return render_template(
        "assignments/grade.html",
        submission=found,
        assignment=found.assignment,
        grade=grade,
        drift=operations.rubric_drift(grade, found.assignment)
        if grade is not None and grade.complete
        else None,
        label=operations.submission_label(found),
        show_name=operations.grader_sees_name(found),
        form=form,
        values=values,
        action_form=ActionForm(),
        answer_form=RegradeAnswerForm(),
        feedback_form=feedback_form or FeedbackFileForm(),
        feedback_files=operations.feedback_files_of(found.id),
        position=operations.queue_position(filters, found),
        link_args=filters.as_args(),
        text=_text_preview(found),
        marking=operations.marking_of(found.id),
        **operations.grading_history(found),
    ), status


def _desk_url(submission_id: int) -> str:
    return url_for(".grade", submission_id=submission_id, **_filters().as_args())


@bp.route("/grading/submissions/<int:submission_id>", methods=["GET", "POST"])
@staff_required
def grade(submission_id: int) -> Any:
    found = found_or_404(operations.get_submission_for, acting_user(), submission_id)
    gate = calibration_gate(found.assignment.track_id)
    if gate is not None:
        return gate
    if operations.hides_first_grade(acting_user(), found):
        flash(
            "This version is sampled for second marking: its first grade stays hidden from you until the "
            "second mark is in. You may give the second mark here.",
            "info",
        )
        return redirect(url_for(".second_mark", submission_id=submission_id))
    if request.method == "GET":
        return _render_grading(found)
    form = GradeForm()
    levels, comments = rubric_inputs(found.assignment, request.form)
    if form.validate_on_submit() and saved_rubric_form(
        operations.save_grade, acting_user(), found, form, levels, comments
    ):
        flash("The grade is saved as a draft. The student sees it once you release it.", "success")
        if request.form.get("then") == "next":
            following = operations.queue_position(_filters(), found).next_id
            if following is not None:
                return redirect(_desk_url(following))
            flash("That was the last submission in this list.", "info")
            return redirect(url_for(".queue", **_filters().as_args()))
        return redirect(_desk_url(submission_id))
    values = {cid: {"level": levels[cid] or "", "comment": comments[cid]} for cid in levels}
    found = found_or_404(operations.get_submission_for, acting_user(), submission_id)
    return _render_grading(found, 422, form=form, values=values)


@bp.route("/grading/submissions/<int:submission_id>/release", methods=["POST"])
@staff_required
def release(submission_id: int) -> Any:
    found = found_or_404(operations.get_submission_for, acting_user(), submission_id)
    if ActionForm().validate_on_submit():
        try:
            grade = operations.release_grade(acting_user(), found, now_utc())
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            outcome = "passed" if grade.decision == "pass" else "returned for revision"
            flash(f"The grade is released: {outcome}. The student can see it now.", "success")
    return redirect(_desk_url(submission_id))


@bp.route("/grading/submissions/<int:submission_id>/feedback-files", methods=["POST"])
@staff_required
def attach_feedback(submission_id: int) -> Any:
    found = found_or_404(operations.get_submission_for, acting_user(), submission_id)
    form = FeedbackFileForm()
    if form.validate_on_submit():
        file = form.file.data
        try:
            feedback = operations.attach_feedback_file(
                acting_user(), found, file.stream, file.filename, now_utc()
            )
        except storage.FileTooLarge as error:
            return render_too_large(error.limit_bytes)
        except DomainError as error:
            db.session.rollback()
            show_form_error(form, error)
        else:
            flash(
                f"The feedback file is attached (version {feedback.version}). The student can download it "
                "once the grade is released.",
                "success",
            )
            return redirect(_desk_url(submission_id))
    found = found_or_404(operations.get_submission_for, acting_user(), submission_id)
    return _render_grading(found, 422, feedback_form=form)


@bp.route("/grading/submissions/<int:submission_id>/preview", endpoint="preview")
@staff_required
def preview_pdf(submission_id: int) -> Any:
    """The PDF inline, for the grading page's frame (and nothing else's)."""
    found = found_or_404(operations.get_submission_for, acting_user(), submission_id)
    if found.detected_type != "pdf":
        abort(404)
    response = send_submission_file(found, inline=True)
    response.headers["Content-Security-Policy"] = PDF_PREVIEW_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


@bp.route("/grading/submissions/<int:submission_id>/first-page.png")
@staff_required
def preview_image(submission_id: int) -> Any:
    """The PDF's first page as an image, for browsers that do not show PDFs in a page."""
    found = found_or_404(operations.get_submission_for, acting_user(), submission_id)
    if found.detected_type != "pdf":
        abort(404)
    source = storage.path_for(found.stored_name)
    if not source.is_file():
        abort(404)
    cache = storage.upload_dir() / "previews" / found.stored_name[:2] / f"{found.stored_name}-1.png"
    try:
        image = preview.first_page_png(source, cache)
    except preview.PreviewUnavailable:
        abort(404)
    return storage.file_response(image, "image/png", f"submission-{found.id}-page-1.png", inline=True)


@bp.route("/grading/regrades/<int:request_id>", methods=["POST"])
@staff_required
def answer_regrade(request_id: int) -> Any:
    regrade = found_or_404(operations.get_regrade_request, request_id)
    submission_id = regrade.submission_id
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
    return redirect(_desk_url(submission_id))

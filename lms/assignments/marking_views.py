"""Second marking, moderation and calibration pages (staff): the second marker's blind desk, the moderator's desk,
the "Marking agreement" page of a track, and the calibration step on its exemplars."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from lms.accounts.access import acting_user, admin_required, staff_required
from lms.assignments import operations
from lms.assignments.forms import GradeForm, WaiverForm, rubric_inputs
from lms.assignments.marking_models import ModerationState
from lms.assignments.models import Submission
from lms.assignments.views import bp, found_or_404, saved_rubric_form, show_form_error
from lms.clock import now_utc
from lms.errors import DomainError
from lms.extensions import db


def calibration_gate(track_id: int) -> Any | None:
    """A redirect to the calibration step when the signed-in marker must calibrate on this track first."""
    if operations.needs_calibration(acting_user(), track_id):
        flash(
            "Before you grade this track's work, grade its exemplars and compare with the reference.", "info"
        )
        return redirect(url_for(".calibration", track_id=track_id))
    return None


def _mark_values(mark: Any, assignment: Any) -> dict[int, dict[str, str]]:
    if mark is None:
        return {c.id: {} for c in assignment.active_criteria}
    return {
        c.id: {"level": mark.level_of(c.id) or "", "comment": mark.comment_of(c.id)}
        for c in assignment.active_criteria
    }


def _posted_values(levels: dict[int, str | None], comments: dict[int, str]) -> dict[int, dict[str, str]]:
    return {cid: {"level": levels[cid] or "", "comment": comments[cid]} for cid in levels}


def _desk(
    template: str, found: Submission, form: GradeForm, values: Any, status: int = 200, **extra: Any
) -> Any:
    return render_template(
        template,
        submission=found,
        assignment=found.assignment,
        label=operations.submission_label(found),
        marking=operations.marking_of(found.id),
        form=form,
        values=values,
        **extra,
    ), status


@bp.route("/grading/submissions/<int:submission_id>/second-mark", methods=["GET", "POST"])
@staff_required
def second_mark(submission_id: int) -> Any:
    found = found_or_404(operations.get_submission_for, acting_user(), submission_id)
    gate = calibration_gate(found.assignment.track_id)
    if gate is not None:
        return gate
    me = acting_user()
    mine = operations.latest_mark("second", found.id, me.id)
    if request.method == "POST":
        form = GradeForm()
        levels, comments = rubric_inputs(found.assignment, request.form)
        if form.validate_on_submit() and saved_rubric_form(
            operations.save_second_mark, me, found, form, levels, comments
        ):
            flash("Your second mark is saved.", "success")
            return redirect(url_for(".second_mark", submission_id=submission_id))
        found = found_or_404(operations.get_submission_for, me, submission_id)
        return _desk(
            "assignments/second_mark.html", found, form, _posted_values(levels, comments), 422, mine=mine
        )
    form = GradeForm(
        data={"overall_comment": mine.overall_comment, "decision": mine.decision} if mine else {}
    )
    # The first grade shows only once this marker's own second mark is complete: they mark blind.
    reveal = mine is not None and mine.complete
    return _desk(
        "assignments/second_mark.html",
        found,
        form,
        _mark_values(mine, found.assignment),
        mine=mine,
        first=found.grade if reveal else None,
        differences=operations.disagreements(found.assignment, found.grade, mine)
        if reveal and found.grade is not None and found.grade.complete
        else [],
    )


@bp.route("/grading/submissions/<int:submission_id>/moderate", methods=["GET", "POST"])
@staff_required
def moderate(submission_id: int) -> Any:
    found = found_or_404(operations.get_submission_for, acting_user(), submission_id)
    gate = calibration_gate(found.assignment.track_id)
    if gate is not None:
        return gate
    second = operations.latest_mark("second", found.id)
    form = GradeForm()
    values = _mark_values(None, found.assignment)
    status = 200
    if request.method == "POST":
        levels, comments = rubric_inputs(found.assignment, request.form)
        if form.validate_on_submit() and saved_rubric_form(
            operations.decide, acting_user(), found, form, levels, comments
        ):
            flash("Your decision is the grade now. It can be released to the student.", "success")
            return redirect(url_for(".grade", submission_id=submission_id))
        found = found_or_404(operations.get_submission_for, acting_user(), submission_id)
        values, status = _posted_values(levels, comments), 422
    marking = operations.marking_of(found.id)
    first = (
        found.grade
        if marking is not None and marking.state_enum is not ModerationState.AWAITING_SECOND
        else None
    )
    return _desk(
        "assignments/moderate.html",
        found,
        form,
        values,
        status,
        first=first,
        second=second if first is not None else None,
        differences=operations.disagreements(found.assignment, first, second)
        if first is not None and first.complete and second is not None and second.complete
        else [],
    )


@bp.route("/grading/tracks/<int:track_id>/agreement")
@staff_required
def agreement(track_id: int) -> Any:
    track = found_or_404(operations.get_track, track_id)
    return render_template(
        "assignments/agreement.html",
        track=track,
        report=operations.agreement_report(track),
        awaiting_second=operations.marking_queue(track.id, ModerationState.AWAITING_SECOND),
        awaiting_moderation=operations.marking_queue(track.id, ModerationState.AWAITING_MODERATION),
    )


@bp.route("/grading/tracks/<int:track_id>/calibration")
@staff_required
def calibration(track_id: int) -> Any:
    track = found_or_404(operations.get_track, track_id)
    me = acting_user()
    exemplars = operations.exemplars_of(track.id)
    form = WaiverForm()
    form.user.choices = [(u.id, u.full_name) for u in operations.staff_members()]
    return render_template(
        "assignments/calibration.html",
        track=track,
        exemplars=exemplars,
        marks=operations.calibration_marks(me.id, [e.id for e in exemplars]),
        waiver=operations.waiver_for(me.id, track.id),
        agreement=operations.calibration_agreement(me, track.id),
        needs=operations.needs_calibration(me, track.id),
        waiver_form=form,
    )


@bp.route("/grading/exemplars/<int:exemplar_id>", methods=["GET", "POST"])
@staff_required
def calibrate(exemplar_id: int) -> Any:
    exemplar = found_or_404(operations.get_exemplar, exemplar_id)
    me = acting_user()
    assignment = exemplar.assignment
    form = GradeForm()
    status = 200
    if request.method == "POST":
        levels, comments = rubric_inputs(assignment, request.form)
        if form.validate_on_submit():
            try:
                operations.save_calibration_mark(me, exemplar, levels, comments, now_utc())
            except DomainError as error:
                db.session.rollback()
                show_form_error(form, error)
            else:
                flash("Saved. Compare your levels with the reference below.", "success")
                return redirect(url_for(".calibrate", exemplar_id=exemplar_id))
        values, status = _posted_values(levels, comments), 422
        mine = None
    else:
        mine = operations.calibration_marks(me.id, [exemplar.id]).get(exemplar.id)
        values = _mark_values(mine, assignment)
    return render_template(
        "assignments/calibrate.html",
        exemplar=exemplar,
        assignment=assignment,
        form=form,
        values=values,
        mine=mine,
        comparison=operations.compare_with_reference(exemplar, mine) if mine is not None else [],
    ), status


@bp.route("/grading/tracks/<int:track_id>/calibration/waive", methods=["POST"])
@admin_required
def waive_calibration(track_id: int) -> Any:
    track = found_or_404(operations.get_track, track_id)
    form = WaiverForm()
    form.user.choices = [(u.id, u.full_name) for u in operations.staff_members()]
    if form.validate_on_submit():
        try:
            user = operations.get_staff_member(form.user.data)
            operations.waive_calibration(acting_user(), track, user, form.reason.data or "", now_utc())
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(f"{user.full_name} may grade this track's work without calibrating.", "success")
    else:
        flash(" ".join(m for errors in form.errors.values() for m in errors), "error")
    return redirect(url_for(".calibration", track_id=track_id))

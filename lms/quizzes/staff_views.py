"""Quiz pages for staff: the quizzes with their attempts, one attempt with every save received, item analysis,
extra time and overrides for one student, and accommodations."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound as HTTPNotFound

from lms.accounts.access import acting_user, staff_required
from lms.accounts.models import Role, User
from lms.accounts.operations import set_accommodation
from lms.clock import now_utc
from lms.errors import DomainError, NotFound
from lms.extensions import db
from lms.quizzes import operations
from lms.quizzes.analysis import histogram_svg
from lms.quizzes.forms import AccommodationForm, ExtraTimeForm, OverrideForm
from lms.quizzes.models import IN_PROGRESS, SUBMITTED, AnswerSave, Attempt, Quiz, QuizOverride
from lms.quizzes.views import bp, quiz_or_404, review_items
from lms.timezones import format_time


@bp.route("/staff/quizzes")
@staff_required
def staff_quizzes() -> Any:
    operations.finalize_overdue()
    counts = (
        sa.select(
            Attempt.quiz_id,
            sa.func.count(Attempt.id).label("attempts"),
            sa.func.sum(sa.case((Attempt.state == IN_PROGRESS, 1), else_=0)).label("running"),
            sa.func.avg(Attempt.percent).label("mean"),
        )
        .group_by(Attempt.quiz_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Quiz, counts.c.attempts, counts.c.running, counts.c.mean)
        .outerjoin(counts, counts.c.quiz_id == Quiz.id)
        .where(Quiz.retired_at.is_(None))
        .order_by(Quiz.track_id, Quiz.kind.desc(), Quiz.slug)
    ).all()
    return render_template("quizzes/staff_quizzes.html", rows=rows)


@bp.route("/staff/quizzes/blueprints")
@staff_required
def staff_blueprints() -> Any:
    return render_template("quizzes/staff_blueprints.html", exams=operations.exam_blueprints())


@bp.route("/staff/quizzes/<slug>/attempts")
@staff_required
def staff_attempts(slug: str) -> Any:
    quiz = quiz_or_404(slug, include_retired=True)
    operations.finalize_overdue(quiz_id=quiz.id)
    rows = db.session.execute(
        sa.select(Attempt, User)
        .join(User, User.id == Attempt.user_id)
        .where(Attempt.quiz_id == quiz.id)
        .order_by(Attempt.started_at.desc(), Attempt.id.desc())
    ).all()
    overrides = db.session.execute(
        sa.select(QuizOverride, User)
        .join(User, User.id == QuizOverride.user_id)
        .where(QuizOverride.quiz_id == quiz.id)
        .order_by(QuizOverride.granted_at.desc())
    ).all()
    return render_template(
        "quizzes/staff_attempts.html", quiz=quiz, rows=rows, overrides=overrides, now=now_utc(),
        extra_form=ExtraTimeForm(formdata=None), override_form=OverrideForm(formdata=None),
    )  # fmt: skip


@bp.route("/staff/quizzes/attempts/<int:attempt_id>")
@staff_required
def staff_attempt(attempt_id: int) -> Any:
    try:
        attempt = operations.read_attempt(acting_user(), attempt_id, staff=True)
    except NotFound as error:
        raise HTTPNotFound(error.message) from error
    saves = db.session.execute(
        sa.select(AnswerSave).where(AnswerSave.attempt_id == attempt.id).order_by(AnswerSave.id)
    ).scalars()
    student = db.session.get(User, attempt.user_id)
    return render_template(
        "quizzes/staff_attempt.html", attempt=attempt, quiz=attempt.quiz, student=student, saves=list(saves),
        items=review_items(attempt) if attempt.state == SUBMITTED else [], extra_form=ExtraTimeForm(formdata=None),
    )  # fmt: skip


@bp.route("/staff/quizzes/attempts/<int:attempt_id>/extra-time", methods=["POST"])
@staff_required
def staff_extra_time(attempt_id: int) -> Any:
    attempt = db.get_or_404(Attempt, attempt_id)
    form = ExtraTimeForm()
    if form.validate_on_submit():
        try:
            operations.add_extra_time(acting_user(), attempt_id, form.minutes.data)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(f"Added {form.minutes.data} minutes to attempt {attempt.number}.", "success")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("quizzes.staff_attempt", attempt_id=attempt_id))


@bp.route("/staff/quizzes/<slug>/overrides", methods=["POST"])
@staff_required
def staff_override(slug: str) -> Any:
    quiz = quiz_or_404(slug, include_retired=True)
    form = OverrideForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("quizzes.staff_attempts", slug=slug))
    try:
        student = operations.find_student(form.student.data)
        if form.kind.data == "reopen":
            if form.until.data is None:
                raise DomainError("Choose the date and time to reopen the quiz until.", field="until")
            until = form.until_utc()
            operations.reopen_quiz_for(acting_user(), quiz, student, until, form.note.data or "")
            flash(
                f"{quiz.title} is reopened for {student.full_name} until {format_time(until, 'stamp')}.",
                "success",
            )
        else:
            operations.grant_extra_attempt(acting_user(), quiz, student, form.note.data or "")
            flash(f"{student.full_name} has one more attempt at {quiz.title}.", "success")
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("quizzes.staff_attempts", slug=slug))


@bp.route("/staff/quizzes/<slug>/analysis")
@staff_required
def staff_analysis(slug: str) -> Any:
    quiz = quiz_or_404(slug, include_retired=True)
    operations.finalize_overdue(quiz_id=quiz.id)
    versions = operations.versions_of(quiz)
    number = request.args.get("version", type=int) or quiz.current_version
    version = next((v for v in versions if v.number == number), None)
    if version is None:
        raise HTTPNotFound("This quiz has no such version.")
    result = operations.analyse_version(version)
    return render_template(
        "quizzes/staff_analysis.html", quiz=quiz, version=version, versions=versions, analysis=result,
        svg=histogram_svg(result.histogram),
    )  # fmt: skip


@bp.route("/staff/accommodations")
@staff_required
def staff_accommodations() -> Any:
    query = request.args.get("q", "").strip().lower()
    stmt = sa.select(User).where(User.role == Role.STUDENT.value).order_by(User.full_name, User.id)
    if query:
        escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        stmt = stmt.where(
            sa.or_(
                User.email.like(pattern, escape="\\"),
                sa.func.lower(User.full_name).like(pattern, escape="\\"),
            )
        )
    elif not request.args.get("all"):
        stmt = stmt.where(User.accommodation_factor > 1)
    page = db.paginate(stmt, per_page=50, error_out=False)
    return render_template(
        "quizzes/staff_accommodations.html", page=page, query=query, form=AccommodationForm()
    )


@bp.route("/staff/accommodations/<int:user_id>", methods=["POST"])
@staff_required
def staff_set_accommodation(user_id: int) -> Any:
    student = db.get_or_404(User, user_id)
    form = AccommodationForm()
    if form.validate_on_submit():
        try:
            set_accommodation(acting_user(), student, float(form.factor.data))
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
        else:
            flash(f"{student.full_name}'s time factor is now {float(form.factor.data):g}.", "success")
    else:
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
    return redirect(url_for("quizzes.staff_accommodations", q=student.email))

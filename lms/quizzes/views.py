"""Quiz pages: overview, taking (with the JSON autosave), results; staff lists, analysis and overrides."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from werkzeug.exceptions import NotFound as HTTPNotFound

from lms.accounts.access import (
    Claim,
    acting_user,
    login_required,
    preloaded_or,
    reads_user_with,
    signed_in,
    staff_required,
    tries_claimed,
)
from lms.accounts.models import Role, User
from lms.accounts.operations import set_accommodation
from lms.clock import now_utc
from lms.errors import TITLES, DomainError, NotFound
from lms.extensions import db
from lms.quizzes import operations
from lms.quizzes.analysis import analyse, histogram_svg
from lms.quizzes.forms import AccommodationForm, ActionForm, ExtraTimeForm, OverrideForm
from lms.quizzes.models import IN_PROGRESS, SUBMITTED, AnswerSave, Attempt, Quiz, QuizOverride, QuizVersion

bp = Blueprint("quizzes", __name__)


def _quiz_or_404(slug: str, **kwargs: Any) -> Quiz:
    try:
        return operations.get_quiz(slug, **kwargs)
    except NotFound as error:
        raise HTTPNotFound(error.message) from error


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _clock(attempt: Attempt | None = None) -> dict[str, Any]:
    if attempt is None:
        return _times()
    return _times(attempt.deadline, operations.submit_cutoff(attempt), attempt.state)


def _times(
    deadline: datetime | None = None, cutoff: datetime | None = None, state: str | None = None
) -> dict[str, Any]:
    """The server's time (and the attempt's deadline) in every answer, so the page's countdown follows the server."""
    now = now_utc()
    data: dict[str, Any] = {"server_time": now.isoformat(), "server_time_ms": _ms(now)}
    if deadline is not None and cutoff is not None:
        data.update(
            deadline=deadline.isoformat(),
            deadline_ms=_ms(deadline),
            submit_cutoff_ms=_ms(cutoff),
            state=state,
        )
    return data


def _json_error(status: int, message: str, attempt: Attempt | None = None, **extra: Any) -> Any:
    return jsonify(
        error=TITLES.get(status, "Error"), message=message, status=status, **_clock(attempt), **extra
    ), status


def _status_for(error: DomainError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, operations.TimeUp | operations.AttemptFinished):
        return 409
    return 422


# -- students --------------------------------------------------------------------------------------------------


@bp.route("/quizzes/<slug>")
@login_required
def overview(slug: str) -> Any:
    quiz = _quiz_or_404(slug)
    plan = operations.plan_attempt(acting_user(), quiz)
    counting = operations.counting_attempt(quiz.grading, plan.attempts)
    return render_template(
        "quizzes/overview.html", quiz=quiz, plan=plan, counting=counting, form=ActionForm(),
        describe=operations.describe_duration, short=operations.short_duration,
    )  # fmt: skip


@bp.route("/quizzes/<slug>/start", methods=["POST"])
@login_required
def start(slug: str) -> Any:
    quiz = _quiz_or_404(slug)
    if not ActionForm().validate_on_submit():
        flash("This page had expired. Press the button again.", "error")
        return redirect(url_for("quizzes.overview", slug=slug))
    try:
        attempt = operations.start_attempt(acting_user(), quiz)
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("quizzes.overview", slug=slug))
    return redirect(url_for("quizzes.take", attempt_id=attempt.id))


def _read_own(attempt_id: int) -> Attempt:
    try:
        return operations.read_attempt(acting_user(), attempt_id)
    except NotFound as error:
        raise HTTPNotFound(error.message) from error


@bp.route("/quizzes/attempts/<int:attempt_id>")
@login_required
def take(attempt_id: int) -> Any:
    attempt = _read_own(attempt_id)
    if attempt.state != IN_PROGRESS:
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    questions = attempt.version.question_map()
    items = [(questions[item["question"]], item["choices"]) for item in attempt.layout]
    saved = operations.current_answers(attempt.id)
    return render_template(
        "quizzes/take.html", attempt=attempt, quiz=attempt.quiz, items=items, saved=saved, form=ActionForm(),
        clock=_clock(attempt), describe=operations.describe_duration, short=operations.short_duration,
        grace_seconds=int(operations.network_grace().total_seconds()),
    )  # fmt: skip


def _parse_client_time(raw: Any) -> datetime | None:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        try:
            return datetime.fromtimestamp(raw / 1000, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _requested_save() -> tuple[str, Any, Any, datetime | None] | None:
    """(question, value, seq, given at) from the autosave's JSON, or None when it is not shaped like one."""
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict) or not isinstance(payload.get("question"), str):
        return None
    return (
        payload["question"],
        payload.get("value"),
        payload.get("seq"),
        _parse_client_time(payload.get("given_at_ms")),
    )


def _saved(receipt: operations.SaveReceipt) -> Any:
    return jsonify(
        ok=True,
        question=receipt.question_id,
        seq=receipt.seq,
        current=receipt.current,
        saved_at=receipt.saved_at.isoformat(),
        saved_at_ms=_ms(receipt.saved_at),
        **_times(receipt.deadline, receipt.submit_cutoff, IN_PROGRESS),
    )


def _save_as_claimed(claim: Claim, attempt_id: int) -> Any:
    """The commonest save, a valid answer in time to an attempt this process has seen, in one statement that also
    checks who is signed in (tries_claimed). None for anything else: save() decides it."""
    requested = _requested_save()
    attempt = operations.known_attempt(attempt_id)
    if requested is None or attempt is None:
        return None
    question, value, seq, given_at = requested
    try:
        receipt = operations.save_answer_at_once(claim, attempt, question, value, seq, client_at=given_at)
    except DomainError:  # a malformed sequence number: save() says so, once the user is known
        return None
    return None if receipt is None else _saved(receipt)


@bp.route("/quizzes/attempts/<int:attempt_id>/answers", methods=["POST"])
@login_required
@tries_claimed(_save_as_claimed)
@reads_user_with(operations.read_reader_and_attempt)
def save(attempt_id: int) -> Any:
    requested = _requested_save()
    if requested is None:
        return _json_error(400, 'Send JSON like {"question": "id", "value": ..., "seq": 1}.')
    question, value, seq, given_at = requested
    saver = signed_in()
    read = preloaded_or(lambda: operations.read_reader_and_attempt(saver.id, attempt_id))
    try:
        receipt = None
        if read is not None:  # the common case in one statement; anything else is decided under the lock
            receipt = operations.save_answer_at_once(
                Claim.of(saver), read, question, value, seq, client_at=given_at
            )
        if receipt is None:
            receipt = operations.save_answer(saver, attempt_id, question, value, seq, client_at=given_at)
    except DomainError as error:
        db.session.rollback()
        attempt = db.session.get(Attempt, attempt_id)
        shown = attempt if attempt is not None and attempt.user_id == saver.id else None
        return _json_error(_status_for(error), error.message, shown, question=question)
    return _saved(receipt)


@bp.route("/quizzes/attempts/<int:attempt_id>/clock")
@login_required
def clock(attempt_id: int) -> Any:
    attempt = _read_own(attempt_id)
    return jsonify(**_clock(attempt), result_url=url_for("quizzes.result", attempt_id=attempt.id))


def _form_answers(attempt: Attempt) -> dict[str, Any]:
    questions = attempt.version.question_map()
    answers: dict[str, Any] = {}
    for question_id in attempt.question_ids:
        name = f"q-{question_id}"
        if questions[question_id]["type"] == "multiple":
            answers[question_id] = request.form.getlist(name)
        elif name in request.form:
            answers[question_id] = request.form.get(name)
        else:
            answers[question_id] = None
    return answers


@bp.route("/quizzes/attempts/<int:attempt_id>/submit", methods=["POST"])
@login_required
def submit(attempt_id: int) -> Any:
    as_json = request.is_json
    result_url = url_for("quizzes.result", attempt_id=attempt_id)
    if as_json:
        body = request.get_json(silent=True)
        reason = body.get("reason") if isinstance(body, dict) else None  # anything else: a plain submit
        by = "timer" if reason == "time_up" else "student"
        form_answers = None
    else:
        if not ActionForm().validate_on_submit():
            flash("This page had expired: reload it and submit again. Your saved answers are kept.", "error")
            return redirect(url_for("quizzes.take", attempt_id=attempt_id))
        attempt = db.session.get(
            Attempt, attempt_id
        )  # not finalized here: the operation decides, and says so
        if attempt is None or attempt.user_id != acting_user().id:
            raise HTTPNotFound("There is no such attempt.")
        if attempt.state != IN_PROGRESS:
            flash(_already_submitted_message(attempt), "info")
            return redirect(result_url)
        by, form_answers = "student", _form_answers(attempt)
    try:
        attempt = operations.submit_attempt(acting_user(), attempt_id, form_answers, by=by)
    except DomainError as error:
        db.session.rollback()
        if as_json:
            shown = db.session.get(Attempt, attempt_id)
            return _json_error(_status_for(error), error.message, shown, result_url=result_url)
        if isinstance(error, NotFound):
            raise HTTPNotFound(error.message) from error
        flash(error.message, "error")
        if isinstance(error, operations.TimeUp):
            return redirect(result_url)
        return redirect(url_for("quizzes.take", attempt_id=attempt_id))
    if as_json:
        return jsonify(ok=True, state=attempt.state, result_url=result_url, percent=attempt.percent)
    flash("Your attempt is submitted.", "success")
    return redirect(result_url)


def _already_submitted_message(attempt: Attempt) -> str:
    if attempt.submitted_by == "server":
        return (
            f"Time was up at {attempt.deadline:%H:%M:%S} UTC, so your attempt was submitted automatically with the "
            "answers saved before the deadline. The answers in the form you sent were not accepted."
        )
    return "This attempt was already submitted; here is its result."


def _review_level(quiz: Quiz) -> str:
    if quiz.review_after == "close" and quiz.closes_at is not None and now_utc() < quiz.closes_at:
        return "score_only"
    return quiz.review


@bp.route("/quizzes/attempts/<int:attempt_id>/result")
@login_required
def result(attempt_id: int) -> Any:
    attempt = _read_own(attempt_id)
    if attempt.state == IN_PROGRESS:
        return redirect(url_for("quizzes.take", attempt_id=attempt.id))
    quiz = attempt.quiz
    level = _review_level(quiz)
    return render_template(
        "quizzes/result.html", attempt=attempt, quiz=quiz, level=level, items=_review_items(attempt),
        review_opens=quiz.closes_at,
        answered=sum(1 for r in (attempt.results or {}).values() if r["answer"] not in (None, [])),
    )  # fmt: skip


def _review_items(attempt: Attempt) -> list[dict[str, Any]]:
    questions = attempt.version.question_map()
    items = []
    for entry in attempt.layout:
        question = questions[entry["question"]]
        outcome = (attempt.results or {}).get(question["id"], {})
        by_id = {c["id"]: c for c in question.get("choices", [])}
        items.append(
            {
                "question": question,
                "choices": [by_id[cid] for cid in entry["choices"]],
                "answer": outcome.get("answer"),
                "points": outcome.get("points", 0),
                "max": outcome.get("max", question["points"]),
            }
        )
    return items


# -- staff -----------------------------------------------------------------------------------------------------


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


@bp.route("/staff/quizzes/<slug>/attempts")
@staff_required
def staff_attempts(slug: str) -> Any:
    quiz = _quiz_or_404(slug, include_retired=True)
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
        items=_review_items(attempt) if attempt.state == SUBMITTED else [], extra_form=ExtraTimeForm(formdata=None),
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
    quiz = _quiz_or_404(slug, include_retired=True)
    form = OverrideForm()
    if not form.validate_on_submit():
        flash(" ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("quizzes.staff_attempts", slug=slug))
    try:
        student = operations.find_student(form.student.data)
        if form.kind.data == "reopen":
            if form.until.data is None:
                raise DomainError("Choose the date and time to reopen the quiz until.", field="until")
            until = form.until.data.replace(tzinfo=UTC)
            operations.reopen_quiz_for(acting_user(), quiz, student, until, form.note.data or "")
            flash(
                f"{quiz.title} is reopened for {student.full_name} until {until:%Y-%m-%d %H:%M} UTC.",
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
    quiz = _quiz_or_404(slug, include_retired=True)
    operations.finalize_overdue(quiz_id=quiz.id)
    versions = list(
        db.session.execute(
            sa.select(QuizVersion).where(QuizVersion.quiz_id == quiz.id).order_by(QuizVersion.number)
        ).scalars()
    )
    number = request.args.get("version", type=int) or quiz.current_version
    version = next((v for v in versions if v.number == number), None)
    if version is None:
        raise HTTPNotFound("This quiz has no such version.")
    rows = db.session.execute(
        sa.select(Attempt.percent, Attempt.results).where(
            Attempt.quiz_version_id == version.id, Attempt.state == SUBMITTED
        )
    ).all()
    result = analyse(version.questions, [{"percent": r.percent, "results": r.results} for r in rows])
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

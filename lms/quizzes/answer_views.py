"""What the taking page sends while an attempt runs: the JSON autosave (one statement in the common case), the clock,
flags for review (JSON, or the plain form's button), and the submit (JSON from the script, or the plain form)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import flash, jsonify, redirect, request, url_for
from werkzeug.exceptions import NotFound as HTTPNotFound

from lms.accounts.access import (
    Claim,
    acting_user,
    login_required,
    preloaded_or,
    reads_user_with,
    signed_in,
    tries_claimed,
)
from lms.errors import DomainError, NotFound
from lms.extensions import db
from lms.quizzes import operations
from lms.quizzes.forms import ActionForm
from lms.quizzes.models import IN_PROGRESS, Attempt
from lms.quizzes.views import bp, clock_of, json_error, ms, read_own, status_for, times
from lms.timezones import format_time


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
    """The reply to a stored save: whether it is the question's answer (`current`), and the answer that stands
    (value and sequence number: the page shows it when this save was not current, "changed in another tab")."""
    return jsonify(
        ok=True,
        question=receipt.question_id,
        seq=receipt.seq,
        current=receipt.current,
        answer={"value": receipt.answer_value, "seq": receipt.answer_seq},
        saved_at=receipt.saved_at.isoformat(),
        saved_at_ms=ms(receipt.saved_at),
        **times(receipt.deadline, receipt.submit_cutoff, IN_PROGRESS),
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
        return json_error(400, 'Send JSON like {"question": "id", "value": ..., "seq": 1}.')
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
        return json_error(status_for(error), error.message, _shown(attempt_id, saver.id), question=question)
    return _saved(receipt)


def _shown(attempt_id: int, user_id: int) -> Attempt | None:
    """The attempt whose clock an error reply carries: the student's own, never another's."""
    attempt = db.session.get(Attempt, attempt_id)
    return attempt if attempt is not None and attempt.user_id == user_id else None


@bp.route("/quizzes/attempts/<int:attempt_id>/clock")
@login_required
def clock(attempt_id: int) -> Any:
    attempt = read_own(attempt_id)
    return jsonify(**clock_of(attempt), result_url=url_for("quizzes.result", attempt_id=attempt.id))


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


def _own_for_form(attempt_id: int) -> Attempt:
    """The student's attempt, read as it is (not finalized here: the operation decides, and says so)."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or attempt.user_id != acting_user().id:
        raise HTTPNotFound("There is no such attempt.")
    return attempt


@bp.route("/quizzes/attempts/<int:attempt_id>/flags", methods=["POST"])
@login_required
def flag(attempt_id: int) -> Any:
    """Flag a question for review: JSON {"question": id, "flagged": bool} from the script, or the plain form's
    button (which also keeps the answers in that form, then goes back to the question)."""
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("question"), str):
            return json_error(400, 'Send JSON like {"question": "id", "flagged": true}.')
        try:
            flagged = operations.flag_question(
                acting_user(), attempt_id, body["question"], body.get("flagged")
            )
        except DomainError as error:
            db.session.rollback()
            return json_error(status_for(error), error.message, _shown(attempt_id, acting_user().id))
        return jsonify(ok=True, question=body["question"], flagged=body["question"] in flagged, flags=flagged)
    take_url = url_for("quizzes.take", attempt_id=attempt_id)
    if not ActionForm().validate_on_submit():
        flash(
            "This page had expired: reload it and press the button again. Your saved answers are kept.",
            "error",
        )
        return redirect(take_url)
    question = request.form.get("flag", "")
    attempt = _own_for_form(attempt_id)
    try:
        operations.keep_form_and_flag(acting_user(), attempt_id, _form_answers(attempt), question)
    except DomainError as error:
        db.session.rollback()
        if isinstance(error, NotFound):
            raise HTTPNotFound(error.message) from error
        flash(error.message, "error")
        return redirect(take_url)
    return redirect(f"{take_url}#question-{question}")


@bp.route("/quizzes/attempts/<int:attempt_id>/submit", methods=["POST"])
@login_required
def submit(attempt_id: int) -> Any:
    as_json = request.is_json
    result_url = url_for("quizzes.result", attempt_id=attempt_id)
    confirmed = True
    if as_json:  # from the script: it asked before (the summary page) when questions were left unanswered
        body = request.get_json(silent=True)
        reason = body.get("reason") if isinstance(body, dict) else None  # anything else: a plain submit
        by = "timer" if reason == "time_up" else "student"
        form_answers = None
    else:
        if not ActionForm().validate_on_submit():
            flash("This page had expired: reload it and submit again. Your saved answers are kept.", "error")
            return redirect(url_for("quizzes.take", attempt_id=attempt_id))
        attempt = _own_for_form(attempt_id)
        if attempt.state != IN_PROGRESS:
            flash(_already_submitted_message(attempt), "info")
            return redirect(result_url)
        # The summary page's button carries no answers (they are saved); the questions' form carries them all.
        from_summary = request.form.get("from") == "summary"
        by, form_answers = "student", None if from_summary else _form_answers(attempt)
        confirmed = request.form.get("confirm") == "unanswered"
    try:
        attempt = operations.submit_attempt(
            acting_user(), attempt_id, form_answers, by=by, confirmed=confirmed
        )
    except operations.UnansweredQuestions as error:
        flash(error.message, "info")
        return redirect(url_for("quizzes.summary", attempt_id=attempt_id))
    except DomainError as error:
        db.session.rollback()
        if as_json:
            shown = _shown(attempt_id, acting_user().id)
            return json_error(status_for(error), error.message, shown, result_url=result_url)
        if isinstance(error, NotFound):
            raise HTTPNotFound(error.message) from error
        flash(error.message, "error")
        if isinstance(error, operations.TimeUp):
            return redirect(result_url)
        return redirect(url_for("quizzes.take", attempt_id=attempt_id))
    if as_json:
        return jsonify(ok=True, state=attempt.state, result_url=result_url, percent=attempt.percent)
    if form_answers is not None and operations.answers_were_closed(attempt):
        flash(
            f"Time was up at {format_time(attempt.deadline, 'time')}: your attempt is submitted with the answers saved "
            "before the deadline. Answers can no longer change, so the ones in the form you sent were not saved.",
            "info",
        )
    else:
        flash("Your attempt is submitted.", "success")
    return redirect(result_url)


def _already_submitted_message(attempt: Attempt) -> str:
    if attempt.submitted_by == "server":
        return (
            f"Time was up at {format_time(attempt.deadline, 'time')}, so your attempt was submitted automatically with the "
            "answers saved before the deadline. The answers in the form you sent were not accepted."
        )
    return "This attempt was already submitted; here is its result."

"""The quizzes blueprint `bp`, whose routes live in one module per audience, imported at the end:

- this module: a student's pages (the overview, starting, taking, the summary before submitting, the result);
- answer_views.py: what the taking page sends while the attempt runs (autosave, clock, flags, submit);
- staff_views.py: staff lists, one attempt with every save, analysis, overrides and accommodations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, flash, jsonify, redirect, render_template, url_for
from werkzeug.exceptions import NotFound as HTTPNotFound

from lms.accounts.access import acting_user, login_required
from lms.clock import now_utc
from lms.errors import TITLES, DomainError, NotFound
from lms.extensions import db
from lms.quizzes import operations
from lms.quizzes.forms import ActionForm
from lms.quizzes.models import IN_PROGRESS, Attempt, Quiz

bp = Blueprint("quizzes", __name__)


def quiz_or_404(slug: str, **kwargs: Any) -> Quiz:
    try:
        return operations.get_quiz(slug, **kwargs)
    except NotFound as error:
        raise HTTPNotFound(error.message) from error


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def clock_of(attempt: Attempt | None = None) -> dict[str, Any]:
    if attempt is None:
        return times()
    return times(attempt.deadline, operations.submit_cutoff(attempt), attempt.state)


def times(
    deadline: datetime | None = None, cutoff: datetime | None = None, state: str | None = None
) -> dict[str, Any]:
    """The server's time (and the attempt's deadline) in every answer, so the page's countdown follows the server."""
    now = now_utc()
    data: dict[str, Any] = {"server_time": now.isoformat(), "server_time_ms": ms(now)}
    if deadline is not None and cutoff is not None:
        data.update(
            deadline=deadline.isoformat(),
            deadline_ms=ms(deadline),
            submit_cutoff_ms=ms(cutoff),
            state=state,
        )
    return data


def json_error(status: int, message: str, attempt: Attempt | None = None, **extra: Any) -> Any:
    return jsonify(
        error=TITLES.get(status, "Error"), message=message, status=status, **clock_of(attempt), **extra
    ), status


def status_for(error: DomainError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, operations.TimeUp | operations.AttemptFinished | operations.TimeNotUp):
        return 409
    return 422


def read_own(attempt_id: int) -> Attempt:
    try:
        return operations.read_attempt(acting_user(), attempt_id)
    except NotFound as error:
        raise HTTPNotFound(error.message) from error


# -- students --------------------------------------------------------------------------------------------------


def _overview(quiz: Quiz, status: int = 200) -> Any:
    plan = operations.plan_attempt(acting_user(), quiz)
    counting = operations.counting_attempt(quiz.grading, plan.attempts)
    return render_template(
        "quizzes/overview.html", quiz=quiz, plan=plan, counting=counting, form=ActionForm(),
        describe=operations.describe_duration, short=operations.short_duration,
    ), status  # fmt: skip


@bp.route("/quizzes/<slug>")
@login_required
def overview(slug: str) -> Any:
    return _overview(quiz_or_404(slug))


@bp.route("/quizzes/<slug>/start", methods=["POST"])
@login_required
def start(slug: str) -> Any:
    quiz = quiz_or_404(slug)
    if not ActionForm().validate_on_submit():
        flash("This page had expired. Press the button again.", "error")
        return redirect(url_for("quizzes.overview", slug=slug))
    try:
        attempt = operations.start_attempt(acting_user(), quiz)
    except operations.QuizLocked:
        db.session.rollback()
        return _overview(quiz, 403)  # the overview says what is still missing
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("quizzes.overview", slug=slug))
    return redirect(url_for("quizzes.take", attempt_id=attempt.id))


def _moved_close(attempt: Attempt) -> datetime | None:
    """The quiz's closing time when it was moved earlier than this running attempt's own deadline (which it keeps:
    lms.quizzes.closing); None otherwise. Time added by staff runs past any close, so it is left out."""
    closes = operations.closes_for(attempt.user_id, attempt.quiz)
    own_end = attempt.deadline.timestamp() - attempt.extra_seconds
    return closes if closes is not None and closes.timestamp() < own_end else None


@bp.route("/quizzes/attempts/<int:attempt_id>")
@login_required
def take(attempt_id: int) -> Any:
    attempt = read_own(attempt_id)
    if attempt.state != IN_PROGRESS:
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    questions = attempt.version.question_map()
    items = [(questions[item["question"]], item["choices"]) for item in attempt.layout]
    saved = operations.current_answers(attempt.id)
    return render_template(
        "quizzes/take.html", attempt=attempt, quiz=attempt.quiz, items=items, saved=saved, form=ActionForm(),
        summary=operations.summarize_attempt(attempt, saved), moved_close=_moved_close(attempt),
        clock=clock_of(attempt), describe=operations.describe_duration, short=operations.short_duration,
        grace_seconds=int(operations.network_grace().total_seconds()),
    )  # fmt: skip


@bp.route("/quizzes/attempts/<int:attempt_id>/summary")
@login_required
def summary(attempt_id: int) -> Any:
    attempt = read_own(attempt_id)
    if attempt.state != IN_PROGRESS:
        return redirect(url_for("quizzes.result", attempt_id=attempt.id))
    saved = operations.current_answers(attempt.id)
    clock = clock_of(attempt)
    return render_template(
        "quizzes/summary.html", attempt=attempt, quiz=attempt.quiz, form=ActionForm(), clock=clock,
        summary=operations.summarize_attempt(attempt, saved), describe=operations.describe_duration,
        left=(clock["deadline_ms"] - clock["server_time_ms"]) / 1000,
    )  # fmt: skip


@bp.route("/quizzes/attempts/<int:attempt_id>/result")
@login_required
def result(attempt_id: int) -> Any:
    attempt = read_own(attempt_id)
    if attempt.state == IN_PROGRESS:
        return redirect(url_for("quizzes.take", attempt_id=attempt.id))
    quiz = attempt.quiz
    review = operations.review_of(attempt)
    return render_template(
        "quizzes/result.html", attempt=attempt, quiz=quiz, level=review.level, held_back=review.held_back,
        items=review_items(attempt),
        review_opens=quiz.closes_at,
        answered=sum(1 for r in (attempt.results or {}).values() if r["answer"] not in (None, [])),
    )  # fmt: skip


def review_items(attempt: Attempt) -> list[dict[str, Any]]:
    questions = attempt.version.question_map()
    items = []
    for entry in attempt.layout:
        question = questions[entry["question"]]
        outcome = (attempt.results or {}).get(question["id"], {})
        by_id = {c["id"]: c for c in question.get("choices", [])}
        answer = outcome.get("answer")
        items.append(
            {
                "question": question,
                "choices": [by_id[cid] for cid in entry["choices"]],
                "answer": answer,
                "answered": answer not in (None, [], ""),
                "points": outcome.get("points", 0),
                "max": outcome.get("max", question["points"]),
            }
        )
    return items


# Imported last: each module needs `bp` (and the helpers above) defined.
from lms.quizzes import answer_views, staff_views  # noqa: E402

__all__ = ["answer_views", "bp", "staff_views"]

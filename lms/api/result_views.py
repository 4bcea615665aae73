"""/api/v1/users/<id>/results/<track>: what a student has done in a track, as far as the student may see it.

Lesson progress; quiz attempts with only what the quiz's review policy shows the student (quizzes' review_of:
never the correct answers while it hides them); the handbook's state and its grade once released (never an
unreleased grade); the certificate."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from lms.accounts.models import User
from lms.api.certificate_views import certificate_json
from lms.api.course_views import find_track
from lms.api.schemas import ResultsOut
from lms.api.views import ApiProblem, requires
from lms.assignments import operations as assignments
from lms.assignments.models import HANDED_IN
from lms.certificates import operations as certificates
from lms.courses import operations as courses
from lms.courses.models import Track
from lms.extensions import db
from lms.quizzes import operations as quizzes
from lms.quizzes.models import SUBMITTED, Attempt

bp = Blueprint("api_results", __name__, url_prefix="/api/v1", description="A student's results in a track")


@bp.route("/users/<int:user_id>/results/<track>", methods=["GET"])
@requires("results:read")
@bp.response(200, ResultsOut)
def get_results(user_id: int, track: str) -> Any:
    """Progress, quiz results (per the review policy), handbook and released grade, and certificate."""
    user = db.session.get(User, user_id)
    if user is None:
        raise ApiProblem(404, "There is no user with this id.")
    found = find_track(track)
    held = [c for c in certificates.certificates_of(user) if c.track_id == found.id]
    return {
        "user_id": user.id,
        "track": found.slug,
        "progress": _progress(user, found),
        "quizzes": [_quiz(status, user.id) for status in quizzes.quizzes_for_track(found.id, user.id)],
        "handbooks": [_handbook(a, user.id) for a in assignments.assignments_for_track(found.id)],
        "certificate": certificate_json(held[0]) if held else None,
    }


def _progress(user: User, track: Track) -> dict[str, Any]:
    outline = courses.track_outline(user, track)
    live = [m for m in outline.modules if m.live]
    return {
        "done": outline.done,
        "total": outline.total,
        "percent": outline.percent,
        "complete": outline.complete,
        "modules": [
            {"slug": m.module.slug, "title": m.module.title, "done": m.done, "total": m.total} for m in live
        ],
    }


def _quiz(status: Any, user_id: int) -> dict[str, Any]:
    quiz = status.quiz
    attempts = [a for a in quizzes.attempts_of(user_id, quiz.id) if a.state == SUBMITTED]
    return {
        "slug": quiz.slug,
        "title": quiz.title,
        "kind": quiz.kind,
        "passed": status.passed,
        "counting_percent": status.counting_percent,
        "attempts": [_attempt(a) for a in attempts],
    }


def _attempt(attempt: Attempt) -> dict[str, Any]:
    review = quizzes.review_of(attempt)
    body: dict[str, Any] = {
        "number": attempt.number,
        "submitted_at": attempt.submitted_at,
        "percent": attempt.percent,
        "passed": attempt.passed,
        "review": review.level,
        "held_back": review.held_back,
    }
    if review.level != "score_only":
        body["questions"] = _questions(attempt, show_correct=review.level == "correct_answers")
    return body


def _questions(attempt: Attempt, *, show_correct: bool) -> list[dict[str, Any]]:
    questions = attempt.version.question_map()
    results = attempt.results or {}
    items = []
    for entry in attempt.layout:
        question = questions[entry["question"]]
        outcome = results.get(question["id"], {})
        item = {
            "question": question["id"],
            "prompt": question["prompt"],
            "answer": outcome.get("answer"),
            "points": float(outcome.get("points", 0)),
            "max_points": float(outcome.get("max", question.get("points", 1))),
        }
        if show_correct:
            item["correct_answer"] = correct_answer(question)
        items.append(item)
    return items


def correct_answer(question: dict[str, Any]) -> Any:
    """What the review page shows as right: the correct choices, true or false, the number or the accepted text."""
    if question.get("type") in ("single", "multiple"):
        return [c["id"] for c in question.get("choices", []) if c.get("correct")]
    if question.get("type") == "true_false":
        return bool(question.get("answer"))
    if "number" in question:
        return {k: question[k] for k in ("number", "tolerance", "unit") if k in question}
    return list(question.get("accept", []))


def _handbook(assignment: Any, user_id: int) -> dict[str, Any]:
    handed_in = [s for s in assignments.submissions_of(user_id, assignment.id) if s.state_enum in HANDED_IN]
    latest = max(handed_in, key=lambda s: s.version or 0) if handed_in else None
    grade = None
    if latest is not None and latest.is_released and latest.grade is not None and latest.grade.released_at:
        grade = {
            "decision": latest.grade.decision,
            "points": latest.grade.points,
            "max_points": latest.grade.max_points,
            "released_at": latest.grade.released_at,
        }
    return {
        "assignment": assignment.slug,
        "title": assignment.title,
        "state": latest.state if latest is not None else "not_submitted",
        "version": latest.version if latest is not None else None,
        "grade": grade,
    }

"""Finishing an attempt: the student's submit (with the plain form's answers), the server's finalize once its time
has run out (finalize_overdue, and read_attempt when an overdue attempt is read), and the score of what was saved.

The server decides when time is up: the page's "time is up" (a submit by the timer) before the server's deadline
finishes nothing (TimeNotUp, with the deadline for the page to follow). Answers a submit carries (the plain form)
are stored only while saves are (deadline + network grace); in "grace" mode a submit after that records the
attempt with the answers saved in time and stores none it carries. An attempt finished because its time ran out
(by the server, or by the page's timer) is recorded as finished at its deadline, whenever that is noticed, so the
delay before the next attempt counts from the deadline.

Every way ends in _finalize, which scores the attempt, closes it, and emits AttemptSubmitted and ProgressChanged
inside the transaction that closes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from lms import events
from lms.accounts.models import User
from lms.audit import record_event
from lms.clock import now_utc
from lms.errors import DomainError, NotFound
from lms.extensions import db
from lms.quizzes.attempts import (
    SavedAnswer,
    TimeNotUp,
    TimeUp,
    UnansweredQuestions,
    _lock_attempt,
    _lock_own_with_questions,
    current_answers,
    is_answered,
    questions_of,
)
from lms.quizzes.deadlines import is_overdue, network_grace, save_cutoff
from lms.quizzes.itemstats import record_attempt
from lms.quizzes.models import IN_PROGRESS, SUBMITTED, AnswerSave, Attempt
from lms.quizzes.scoring import AnswerInvalid, AttemptScore, normalize_answer, score_attempt
from lms.timezones import format_time

# Who finished an attempt because its time ran out: recorded as finished at its deadline.
TIME_RAN_OUT = frozenset({"server", "timer"})


def submit_attempt(
    user: User,
    attempt_id: int,
    form_answers: dict[str, Any] | None = None,
    *,
    by: str = "student",
    confirmed: bool = True,
    now: datetime | None = None,
) -> Attempt:
    """Submit once: a second submit (double click, another tab, a retry) returns the same result.

    `form_answers` (question id -> raw value) come from the plain form when the page runs without JavaScript;
    they are recorded as saves before scoring while saves are accepted, and ignored after (grace mode). Not
    `confirmed` with questions still unanswered, they are recorded and UnansweredQuestions is raised after
    committing them (the page asks first). By the page's timer (`by="timer"`) before the deadline: TimeNotUp,
    nothing changed. After the cutoff the attempt is finalized with what was saved in time (TimeUp is raised
    after committing that)."""
    now = now or now_utc()
    attempt, questions = _lock_own_with_questions(user, attempt_id, with_quiz=True)
    if attempt.state == SUBMITTED:
        db.session.rollback()
        return attempt
    if is_overdue(attempt, now):
        _finalize(attempt, now, by="server", questions=questions)
        db.session.commit()
        raise TimeUp(_submitted_by_server(attempt))
    if by == "timer" and now < attempt.deadline:
        db.session.rollback()
        raise TimeNotUp(
            f"Time is not up yet: your attempt runs until {format_time(attempt.deadline, 'time')}."
        )
    if form_answers is not None and now <= save_cutoff(attempt):
        _record_form_answers(attempt, questions, form_answers, now)
        if not confirmed:
            saved = current_answers(attempt.id)
            unanswered = sum(1 for qid in attempt.question_ids if not is_answered(saved.get(qid)))
            if unanswered:
                db.session.commit()
                raise UnansweredQuestions(
                    f"{unanswered} question{' is' if unanswered == 1 else 's are'} not answered yet. "
                    "Your answers are saved: answer the rest, or submit as it is."
                )
    _finalize(attempt, now, by=by, questions=questions)
    db.session.commit()
    return attempt


def _submitted_by_server(attempt: Attempt) -> str:
    return (
        f"Time was up at {format_time(attempt.deadline, 'time')}, so your attempt was submitted automatically "
        "with the answers saved before the deadline."
    )


def answers_were_closed(attempt: Attempt) -> bool:
    """Whether the attempt was submitted after answers stopped being accepted (grace mode): a form it carried was
    not stored."""
    return attempt.submitted_at is not None and attempt.submitted_at > save_cutoff(attempt)


def _record_form_answers(
    attempt: Attempt, questions: dict[str, dict[str, Any]], form_answers: dict[str, Any], now: datetime
) -> None:
    saved = current_answers(attempt.id)
    problems = []
    for question_id in attempt.question_ids:
        if question_id not in form_answers:
            continue
        try:
            value = normalize_answer(questions[question_id], form_answers[question_id])
        except AnswerInvalid as error:
            problems.append(str(error))
            continue
        previous = saved.get(question_id)
        if previous is None and value in (None, []):
            continue
        if previous is not None and previous.value == value:
            continue
        db.session.add(
            AnswerSave(
                attempt_id=attempt.id,
                question_id=question_id,
                seq=(previous.seq + 1) if previous else 0,
                value=value,
                client_at=now,
                server_at=now,
                source="form",
            )
        )
    if problems:
        db.session.rollback()
        raise DomainError(f"Some answers could not be read: {problems[0]} Nothing was submitted.")
    db.session.flush()


def _score_saved(
    attempt: Attempt, questions_by_id: dict[str, dict[str, Any]] | None = None
) -> tuple[dict[str, SavedAnswer], AttemptScore]:
    """The attempt's saved answers and the score they earn (against the version it was taken on)."""
    questions_by_id = questions_by_id if questions_by_id is not None else questions_of(attempt)
    questions = [questions_by_id[qid] for qid in attempt.question_ids]
    saved = current_answers(attempt.id)
    answers = {qid: answer.value for qid, answer in saved.items()}
    return saved, score_attempt(questions, answers, attempt.quiz.pass_percent)


def _finalize(
    attempt: Attempt, now: datetime, *, by: str, questions: dict[str, dict[str, Any]] | None = None
) -> None:
    """Score the attempt with its saved answers and close it (the caller holds the lock and commits)."""
    quiz = attempt.quiz
    questions = questions if questions is not None else questions_of(attempt)
    saved, score = _score_saved(attempt, questions)
    answers = {qid: answer.value for qid, answer in saved.items()}
    attempt.results = {
        qid: {
            "answer": answers.get(qid),
            "points": s.points,
            "max": s.max_points,
            "save_id": saved[qid].save_id if qid in saved else None,
        }
        for qid, s in score.per_question.items()
    }
    attempt.score = score.points
    attempt.max_score = score.max_points
    attempt.percent = score.percent
    attempt.passed = score.passed
    attempt.state = SUBMITTED
    attempt.submitted_by = by
    attempt.submitted_at = min(now, attempt.deadline) if by in TIME_RAN_OUT else now
    db.session.flush()
    record_event(
        attempt.user_id if by != "server" else None, "quiz.attempt_submitted", "quiz_attempt", attempt.id,
        by=by, score=score.points, max=score.max_points, percent=score.percent, passed=score.passed,
        answers=len(saved),
    )  # fmt: skip
    events.emit(
        events.AttemptSubmitted(
            attempt_id=attempt.id, user_id=attempt.user_id, quiz_id=attempt.quiz_id, track_id=quiz.track_id,
            by_server=by == "server", passed=score.passed,
        )
    )  # fmt: skip
    events.emit(events.ProgressChanged(user_id=attempt.user_id, track_id=quiz.track_id))
    # The item analysis's sums, in this transaction; last, so that the rows every finishing attempt of the quiz
    # updates stay locked only until the caller commits (lms.quizzes.itemstats).
    record_attempt(attempt, list(questions.values()))


def finalize_overdue(
    now: datetime | None = None, *, quiz_id: int | None = None, user_id: int | None = None
) -> int:
    """Finalize every attempt past its cutoff with its saved answers; returns how many were finalized."""
    now = now or now_utc()
    stmt = sa.select(Attempt.id).where(Attempt.state == IN_PROGRESS, Attempt.deadline < now - network_grace())
    if quiz_id is not None:
        stmt = stmt.where(Attempt.quiz_id == quiz_id)
    if user_id is not None:
        stmt = stmt.where(Attempt.user_id == user_id)
    candidates = list(db.session.execute(stmt).scalars())
    done = 0
    for attempt_id in candidates:
        attempt = _lock_attempt(attempt_id)
        if attempt is not None and is_overdue(attempt, now):
            _finalize(attempt, now, by="server")
            db.session.commit()
            done += 1
        else:
            db.session.rollback()
    return done


def read_attempt(user: User, attempt_id: int, now: datetime | None = None, *, staff: bool = False) -> Attempt:
    """The attempt for showing it (its owner, or staff), finalized first if its time ran out."""
    attempt = db.session.get(Attempt, attempt_id)
    if attempt is None or (attempt.user_id != user.id and not staff):
        raise NotFound("There is no such attempt.")
    now = now or now_utc()
    if is_overdue(attempt, now):
        finalize_overdue(now, quiz_id=attempt.quiz_id, user_id=attempt.user_id)
        db.session.refresh(attempt)
    return attempt

"""Quiz rules as verb-first functions: the feature's one interface for views, the CLI, other features and tests.

The rules live in modules by concern; this one re-exports them, so callers import from here only:
- deadlines: the time rules (network grace, save and submit cutoffs, overdue) and durations and points on a page;
- attempts: the quiz and its version, a student's attempts and saved answers, the questions, the row lock;
- starting: whether a student may start an attempt now (plan_attempt), and starting it;
- saving: one answer saved under the attempt's row lock (save_answer);
- fast: the one-statement autosave for the web path (save_answer_at_once), equal in outcome to save_answer;
- finishing: the student's submit, the server's finalize at the deadline, reading an attempt (finalized first);
- staff: extra time, an extra attempt, a reopening, finding a student;
- reports: standing for other features (has_passed_quiz, quiz statuses per track or student).

Times come from the caller or lms.clock.now_utc().
"""

from __future__ import annotations

from lms.quizzes.attempts import (
    AttemptFinished,
    SavedAnswer,
    TimeUp,
    # Not the interface: the per-process question pool, which tests/test_process_caches.py looks up here.
    _question_pool,  # noqa: F401
    attempts_of,
    counting_attempt,
    current_answers,
    current_version,
    get_quiz,
    questions_of,
)
from lms.quizzes.deadlines import (
    describe_duration,
    format_points,
    is_overdue,
    network_grace,
    save_cutoff,
    short_duration,
    submit_cutoff,
)
from lms.quizzes.fast import (
    ATTEMPTS_KEPT,
    AttemptRow,
    known_attempt,
    read_reader_and_attempt,
    save_answer_at_once,
)
from lms.quizzes.finishing import finalize_overdue, read_attempt, submit_attempt
from lms.quizzes.reports import (
    QuizStatus,
    has_passed_quiz,
    quiz_statuses,
    quizzes_for_student,
    quizzes_for_track,
)
from lms.quizzes.saving import SaveReceipt, save_answer
from lms.quizzes.staff import (
    MAX_EXTRA_MINUTES,
    add_extra_time,
    find_student,
    grant_extra_attempt,
    reopen_quiz_for,
)
from lms.quizzes.starting import AttemptPlan, plan_attempt, start_attempt

__all__ = [
    "ATTEMPTS_KEPT",
    "MAX_EXTRA_MINUTES",
    "AttemptFinished",
    "AttemptPlan",
    "AttemptRow",
    "QuizStatus",
    "SaveReceipt",
    "SavedAnswer",
    "TimeUp",
    "add_extra_time",
    "attempts_of",
    "counting_attempt",
    "current_answers",
    "current_version",
    "describe_duration",
    "finalize_overdue",
    "find_student",
    "format_points",
    "get_quiz",
    "grant_extra_attempt",
    "has_passed_quiz",
    "is_overdue",
    "known_attempt",
    "network_grace",
    "plan_attempt",
    "questions_of",
    "quiz_statuses",
    "quizzes_for_student",
    "quizzes_for_track",
    "read_attempt",
    "read_reader_and_attempt",
    "reopen_quiz_for",
    "save_answer",
    "save_answer_at_once",
    "save_cutoff",
    "short_duration",
    "start_attempt",
    "submit_attempt",
    "submit_cutoff",
]

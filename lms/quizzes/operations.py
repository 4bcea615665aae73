"""Quiz rules as verb-first functions: the feature's one interface for views, the CLI, other features and tests.

The rules live in modules by concern; this one re-exports them, so callers import from here only:
- deadlines: the time rules (network grace, save and submit cutoffs, overdue) and durations and points on a page;
- attempts: the quiz and its version, a student's attempts and saved answers, the questions, the row lock;
- unlocking: whether the track's order opens a quiz to a student (a module quiz with its module; the final exam);
- starting: whether a student may start an attempt now (plan_attempt), and starting it;
- saving: one answer saved under the attempt's row lock (save_answer), and the order of saves;
- fast: the one-statement autosave for the web path (save_answer_at_once), equal in outcome to save_answer;
- finishing: the student's submit, the server's finalize at the deadline, reading an attempt (finalized first);
- summary: each question answered or flagged, for the navigator and the summary page; flags for review;
- closing: a quiz's closing time moved by a sync, and the running attempts it had cut;
- staff: extra time, an extra attempt, a reopening, finding a student;
- review: what a student sees of a submitted attempt (a module quiz's correct answers once passed or out of attempts);
- items: item statistics with their flags, for the analysis page and `lms item-report`;
- reports: standing for other features (has_passed_quiz, quiz statuses per track or student); exam blueprints.

Times come from the caller or lms.clock.now_utc().
"""

from __future__ import annotations

from lms.quizzes.attempts import (
    AttemptFinished,
    SavedAnswer,
    TimeNotUp,
    TimeUp,
    UnansweredQuestions,
    # Not the interface: the per-process question pool, which tests/test_process_caches.py looks up here.
    _question_pool,  # noqa: F401
    answer_now,
    attempts_of,
    counting_attempt,
    current_answers,
    current_version,
    get_quiz,
    is_answered,
    questions_of,
)
from lms.quizzes.closing import extend_cut_attempts
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
from lms.quizzes.finishing import answers_were_closed, finalize_overdue, read_attempt, submit_attempt
from lms.quizzes.items import analyse_version, item_report_rows, rebuild_item_counts, versions_of
from lms.quizzes.reports import (
    BlueprintRow,
    ExamBlueprint,
    QuizStatus,
    assessed_quiz_slugs,
    assessed_quizzes,
    exam_blueprints,
    has_passed_quiz,
    module_quizzes_to_pass,
    passed_since,
    quiz_statuses,
    quizzes_for_student,
    quizzes_for_track,
    recertification_exam,
)
from lms.quizzes.review import Review, decide_review, review_of
from lms.quizzes.saving import SaveReceipt, save_answer
from lms.quizzes.staff import (
    MAX_EXTRA_MINUTES,
    add_extra_time,
    find_student,
    grant_extra_attempt,
    reopen_quiz_for,
)
from lms.quizzes.starting import AttemptPlan, QuizLocked, closes_for, plan_attempt, start_attempt
from lms.quizzes.summary import (
    AttemptSummary,
    QuestionMark,
    flag_question,
    keep_form_and_flag,
    summarize_attempt,
)
from lms.quizzes.unlocking import Unlock, decide_final_exam, decide_unlock, open_kind_with

__all__ = [
    "ATTEMPTS_KEPT",
    "MAX_EXTRA_MINUTES",
    "AttemptFinished",
    "AttemptPlan",
    "AttemptRow",
    "AttemptSummary",
    "BlueprintRow",
    "ExamBlueprint",
    "QuestionMark",
    "QuizLocked",
    "QuizStatus",
    "Review",
    "SaveReceipt",
    "SavedAnswer",
    "TimeNotUp",
    "TimeUp",
    "UnansweredQuestions",
    "Unlock",
    "add_extra_time",
    "analyse_version",
    "answer_now",
    "answers_were_closed",
    "assessed_quiz_slugs",
    "assessed_quizzes",
    "attempts_of",
    "closes_for",
    "counting_attempt",
    "current_answers",
    "current_version",
    "decide_final_exam",
    "decide_review",
    "decide_unlock",
    "describe_duration",
    "exam_blueprints",
    "extend_cut_attempts",
    "finalize_overdue",
    "find_student",
    "flag_question",
    "format_points",
    "get_quiz",
    "grant_extra_attempt",
    "has_passed_quiz",
    "is_answered",
    "is_overdue",
    "item_report_rows",
    "keep_form_and_flag",
    "known_attempt",
    "module_quizzes_to_pass",
    "network_grace",
    "open_kind_with",
    "passed_since",
    "plan_attempt",
    "questions_of",
    "quiz_statuses",
    "quizzes_for_student",
    "quizzes_for_track",
    "read_attempt",
    "read_reader_and_attempt",
    "rebuild_item_counts",
    "recertification_exam",
    "reopen_quiz_for",
    "review_of",
    "save_answer",
    "save_answer_at_once",
    "save_cutoff",
    "short_duration",
    "start_attempt",
    "submit_attempt",
    "submit_cutoff",
    "summarize_attempt",
    "versions_of",
]

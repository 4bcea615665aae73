"""The handbook's operations, in one place for views, the CLI and tests: each lives in the module of its concern.

- `deadlines`: each student's due date and cut-off, extensions, dates in words
- `lookups`: finding an assignment, a submission or a regrade request (NotFound when missing or hidden)
- `submitting`: students upload a draft and submit it as a numbered version
- `grading`: staff grade with the rubric and release the grade; blind marking
- `regrades`: students ask for a regrade of a released grade; staff answer
- `queue`: reads for the pages (the grading queue, a version's history, the dashboards)
- `downloads`: every student's latest version in one zip
"""

from __future__ import annotations

from lms.assignments.deadlines import (
    Deadlines,
    active_enrollment,
    deadlines_for,
    describe_duration,
    enrollment_deadlines,
    extension_overview,
    format_time,
    grant_extension,
    latest_extension,
    student_deadlines,
)
from lms.assignments.downloads import build_submissions_zip
from lms.assignments.grading import (
    DECISIONS,
    MAX_COMMENT,
    MAX_OVERALL,
    grader_sees_name,
    meets_pass_rule,
    release_grade,
    save_grade,
    submission_label,
)
from lms.assignments.lookups import (
    find_assignment,
    get_assignment,
    get_regrade_request,
    get_submission_for,
    has_passed_assignment,
    require_found,
    submissions_of,
)
from lms.assignments.models import MAX_REASON
from lms.assignments.queue import (
    QUEUE_FILTERS,
    active_assignments,
    assignments_for_track,
    grading_history,
    queue_page,
    queue_statement,
    queue_tracks,
    student_overview,
    waiting_count,
)
from lms.assignments.regrades import answer_regrade, can_request_regrade, regrades_for, request_regrade
from lms.assignments.submitting import submit_draft, upload_draft

__all__ = [
    "DECISIONS",
    "MAX_COMMENT",
    "MAX_OVERALL",
    "MAX_REASON",
    "QUEUE_FILTERS",
    "Deadlines",
    "active_assignments",
    "active_enrollment",
    "answer_regrade",
    "assignments_for_track",
    "build_submissions_zip",
    "can_request_regrade",
    "deadlines_for",
    "describe_duration",
    "enrollment_deadlines",
    "extension_overview",
    "find_assignment",
    "format_time",
    "get_assignment",
    "get_regrade_request",
    "get_submission_for",
    "grader_sees_name",
    "grading_history",
    "grant_extension",
    "has_passed_assignment",
    "latest_extension",
    "meets_pass_rule",
    "queue_page",
    "queue_statement",
    "queue_tracks",
    "regrades_for",
    "release_grade",
    "request_regrade",
    "require_found",
    "save_grade",
    "student_deadlines",
    "student_overview",
    "submission_label",
    "submissions_of",
    "submit_draft",
    "upload_draft",
    "waiting_count",
]

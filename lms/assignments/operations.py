"""The handbook's operations, in one place for views, the CLI and tests: each lives in the module of its concern.

- `deadlines`: each student's due date and cut-off, extensions, dates in words
- `lookups`: finding an assignment, a submission or a regrade request (NotFound when missing or hidden)
- `submitting`: students upload a draft and submit it as a numbered version
- `grading`: staff grade with the rubric and release the grade
- `rubric`: the rubric a grade was given against, what changed since, the student's breakdown (pure)
- `anonymity`: blind marking, who staff may see
- `regrades`: students ask for a regrade of a released grade; staff answer
- `feedback`: feedback files attached to a grade, one version after another
- `bulk_feedback`: feedback files for many students from one zip, reviewed before they are attached
- `queue`: reads for the pages (the grading queue and a version's place in it, its history, the dashboards)
- `downloads`: every student's latest version in one zip
- `preview`: a PDF's first page as an image, the text of office files (not re-exported: pages use it directly)
"""

from __future__ import annotations

from lms.assignments.anonymity import grader_sees_name, staff_file_name, submission_label
from lms.assignments.bulk_feedback import apply_feedback_zip, review_feedback_zip, stage_feedback_zip
from lms.assignments.deadlines import (
    Deadlines,
    active_enrollment,
    deadlines_for,
    describe_duration,
    enrollment_deadlines,
    extension_overview,
    grant_extension,
    latest_extension,
    student_deadlines,
)
from lms.assignments.downloads import build_submissions_zip
from lms.assignments.feedback import (
    attach_feedback_file,
    feedback_files_of,
    get_feedback_file,
    released_feedback_file,
)
from lms.assignments.grading import (
    DECISIONS,
    MAX_COMMENT,
    MAX_OVERALL,
    meets_pass_rule,
    release_grade,
    save_grade,
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
    QueueFilters,
    QueuePosition,
    active_assignments,
    assignments_for_track,
    grading_history,
    queue_page,
    queue_position,
    queue_statement,
    queue_tracks,
    student_overview,
    waiting_count,
)
from lms.assignments.regrades import answer_regrade, can_request_regrade, regrades_for, request_regrade
from lms.assignments.rubric import BreakdownLine, RubricDrift, breakdown, rubric_drift
from lms.assignments.submitting import submit_draft, upload_draft

__all__ = [
    "DECISIONS",
    "MAX_COMMENT",
    "MAX_OVERALL",
    "MAX_REASON",
    "QUEUE_FILTERS",
    "BreakdownLine",
    "Deadlines",
    "QueueFilters",
    "QueuePosition",
    "RubricDrift",
    "active_assignments",
    "active_enrollment",
    "answer_regrade",
    "apply_feedback_zip",
    "assignments_for_track",
    "attach_feedback_file",
    "breakdown",
    "build_submissions_zip",
    "can_request_regrade",
    "deadlines_for",
    "describe_duration",
    "enrollment_deadlines",
    "extension_overview",
    "feedback_files_of",
    "find_assignment",
    "get_assignment",
    "get_feedback_file",
    "get_regrade_request",
    "get_submission_for",
    "grader_sees_name",
    "grading_history",
    "grant_extension",
    "has_passed_assignment",
    "latest_extension",
    "meets_pass_rule",
    "queue_page",
    "queue_position",
    "queue_statement",
    "queue_tracks",
    "regrades_for",
    "release_grade",
    "released_feedback_file",
    "request_regrade",
    "require_found",
    "review_feedback_zip",
    "rubric_drift",
    "save_grade",
    "staff_file_name",
    "stage_feedback_zip",
    "student_deadlines",
    "student_overview",
    "submission_label",
    "submissions_of",
    "submit_draft",
    "upload_draft",
    "waiting_count",
]

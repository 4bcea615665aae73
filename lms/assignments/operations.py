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
- `quota`: what a student may keep per assignment, deleting a draft, pruning drafts replaced long ago
- `reconcile`: the sweep of temporary upload files, and `lms check-storage` (files and rows in step)
- `moderation`: second marking (which versions, who marks, disagreements) and the moderator's decision
- `marks`: a marker's rubric choices checked, and written into the working grade with its history
- `agreement`: Cohen's kappa and weighted kappa (pure); `marking_reports`: the "Marking agreement" page's reads
- `calibration`: exemplars, calibration marks and the calibration step before real grading, waivers
- `preview`: a PDF's first page as an image, the text of office files (not re-exported: pages use it directly)
"""

from __future__ import annotations

from lms.assignments.agreement import Kappa, kappa
from lms.assignments.anonymity import grader_sees_name, staff_file_name, submission_label
from lms.assignments.bulk_feedback import apply_feedback_zip, review_feedback_zip, stage_feedback_zip
from lms.assignments.calibration import (
    calibration_agreement,
    calibration_marks,
    compare_with_reference,
    exemplars_of,
    get_exemplar,
    get_staff_member,
    get_track,
    needs_calibration,
    save_calibration_mark,
    staff_members,
    waive_calibration,
    waiver_for,
)
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
from lms.assignments.marking_reports import (
    Agreement,
    AgreementReport,
    agreement_report,
    marking_queue,
    open_marking_counts,
)
from lms.assignments.models import MAX_REASON
from lms.assignments.moderation import (
    decide,
    disagreements,
    draw_offset,
    hides_first_grade,
    is_sampled,
    latest_mark,
    marking_of,
    release_blocker,
    save_second_mark,
)
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
from lms.assignments.quota import (
    Quota,
    deletable_drafts,
    delete_draft,
    prune_replaced_drafts,
    quota_of,
    require_room,
)
from lms.assignments.reconcile import StorageReport, check_storage, sweep_temporary_uploads
from lms.assignments.regrades import answer_regrade, can_request_regrade, regrades_for, request_regrade
from lms.assignments.rubric import BreakdownLine, RubricDrift, breakdown, rubric_drift
from lms.assignments.submitting import submit_draft, upload_draft

__all__ = [
    "DECISIONS",
    "MAX_COMMENT",
    "MAX_OVERALL",
    "MAX_REASON",
    "QUEUE_FILTERS",
    "Agreement",
    "AgreementReport",
    "BreakdownLine",
    "Deadlines",
    "Kappa",
    "QueueFilters",
    "QueuePosition",
    "Quota",
    "RubricDrift",
    "StorageReport",
    "active_assignments",
    "active_enrollment",
    "agreement_report",
    "answer_regrade",
    "apply_feedback_zip",
    "assignments_for_track",
    "attach_feedback_file",
    "breakdown",
    "build_submissions_zip",
    "calibration_agreement",
    "calibration_marks",
    "can_request_regrade",
    "check_storage",
    "compare_with_reference",
    "deadlines_for",
    "decide",
    "deletable_drafts",
    "delete_draft",
    "describe_duration",
    "disagreements",
    "draw_offset",
    "enrollment_deadlines",
    "exemplars_of",
    "extension_overview",
    "feedback_files_of",
    "find_assignment",
    "get_assignment",
    "get_exemplar",
    "get_feedback_file",
    "get_regrade_request",
    "get_staff_member",
    "get_submission_for",
    "get_track",
    "grader_sees_name",
    "grading_history",
    "grant_extension",
    "has_passed_assignment",
    "hides_first_grade",
    "is_sampled",
    "kappa",
    "latest_extension",
    "latest_mark",
    "marking_of",
    "marking_queue",
    "meets_pass_rule",
    "needs_calibration",
    "open_marking_counts",
    "prune_replaced_drafts",
    "queue_page",
    "queue_position",
    "queue_statement",
    "queue_tracks",
    "quota_of",
    "regrades_for",
    "release_blocker",
    "release_grade",
    "released_feedback_file",
    "request_regrade",
    "require_found",
    "require_room",
    "review_feedback_zip",
    "rubric_drift",
    "save_calibration_mark",
    "save_grade",
    "save_second_mark",
    "staff_file_name",
    "staff_members",
    "stage_feedback_zip",
    "student_deadlines",
    "student_overview",
    "submission_label",
    "submissions_of",
    "submit_draft",
    "sweep_temporary_uploads",
    "upload_draft",
    "waiting_count",
    "waive_calibration",
    "waiver_for",
]

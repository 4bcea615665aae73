"""Access rules for the handbook assignment: the student's pages and files, and the staff's grading pages.

The submission used for per-submission routes belongs to `other_student`: the sample student must get 404 there."""

from __future__ import annotations

import io
from typing import Any

from lms import clock
from lms.assignments import operations
from tests.access_rules import LOGIN, Rule, admin_only, signed_in, staff_only
from tests.fixtures.files import rows, samples


def prepare(s: Any) -> None:
    track = rows.make_track("handbook-access", "Handbook Access")
    s.assignment = rows.make_assignment(track, "access-handbook", criteria=2)
    rows.enroll(s.student, track)
    rows.enroll(s.other_student, track)
    now = clock.now_utc()
    operations.upload_draft(s.other_student, s.assignment, io.BytesIO(samples.pdf()), "theirs.pdf", now)
    s.submission = operations.submit_draft(s.other_student, s.assignment, True, now)
    s.feedback = operations.attach_feedback_file(
        s.instructor, s.submission, io.BytesIO(samples.pdf("Notes")), "notes.pdf", now
    )
    s.assignment_url = "/assignments/handbook-access/access-handbook"
    # Exemplars on a track of their own: on the handbook's track they would send staff to calibrate first.
    other = rows.make_track("calibration-access", "Calibration Access")
    s.exemplar = rows.make_exemplar(rows.make_assignment(other, "calibration-handbook", criteria=2))


def student_only(status: Any) -> dict[str, Any]:
    return {"anonymous": LOGIN, "student": status, "instructor": 403, "admin": 403}


def others_work(staff_status: Any, student_status: Any = 404) -> dict[str, Any]:
    """Another student's submission: the sample student may not even learn it exists."""
    return {"anonymous": LOGIN, "student": student_status, "instructor": staff_status, "admin": staff_status}


RULES = [
    Rule("assignments.assignment", "GET", lambda s: s.assignment_url, signed_in(200)),
    Rule(
        "assignments.upload",
        "POST",
        lambda s: s.assignment_url + "/upload",
        student_only(422),
        data=lambda s: {},
    ),
    Rule(
        "assignments.submit",
        "POST",
        lambda s: s.assignment_url + "/submit",
        student_only(422),
        data=lambda s: {},
    ),
    Rule(
        "assignments.delete_draft",
        "POST",
        lambda s: s.assignment_url + f"/drafts/{s.submission.id}/delete",
        student_only(404),  # another student's version: the sample student may not learn it exists
        data=lambda s: {},
    ),
    Rule(
        "assignments.submission",
        "GET",
        lambda s: f"/assignments/submissions/{s.submission.id}",
        others_work(200),
    ),
    Rule(
        "assignments.download",
        "GET",
        lambda s: f"/assignments/submissions/{s.submission.id}/file",
        others_work(200),
    ),
    Rule(
        "assignments.feedback_file",
        "GET",
        lambda s: f"/assignments/submissions/{s.submission.id}/feedback-files/{s.feedback.id}",
        others_work(200),
    ),
    Rule(
        "assignments.request_regrade",
        "POST",
        lambda s: f"/assignments/submissions/{s.submission.id}/regrade",
        others_work(403),
        data=lambda s: {"reason": "Please look again at the SWOT section."},
    ),
    Rule("assignments.queue", "GET", lambda s: "/grading", staff_only(200)),
    Rule("assignments.grade", "GET", lambda s: f"/grading/submissions/{s.submission.id}", staff_only(200)),
    Rule(
        "assignments.grade",
        "POST",
        lambda s: f"/grading/submissions/{s.submission.id}",
        staff_only("redirect"),
        data=lambda s: {"overall_comment": "Started."},
    ),
    Rule(
        "assignments.release",
        "POST",
        lambda s: f"/grading/submissions/{s.submission.id}/release",
        staff_only("redirect"),
    ),
    Rule(
        "assignments.preview",
        "GET",
        lambda s: f"/grading/submissions/{s.submission.id}/preview",
        staff_only(200),
    ),
    Rule(
        "assignments.preview_image",
        "GET",
        lambda s: f"/grading/submissions/{s.submission.id}/first-page.png",
        staff_only(200),
    ),
    Rule(
        "assignments.attach_feedback",
        "POST",
        lambda s: f"/grading/submissions/{s.submission.id}/feedback-files",
        staff_only(422),
        data=lambda s: {},
    ),
    Rule(
        "assignments.feedback_zip",
        "GET",
        lambda s: f"/grading/assignments/{s.assignment.id}/feedback-zip",
        staff_only(200),
    ),
    Rule(
        "assignments.feedback_zip",
        "POST",
        lambda s: f"/grading/assignments/{s.assignment.id}/feedback-zip",
        staff_only(422),
        data=lambda s: {},
    ),
    Rule(
        "assignments.confirm_feedback_zip",
        "POST",
        lambda s: f"/grading/assignments/{s.assignment.id}/feedback-zip/confirm",
        staff_only("redirect"),
        data=lambda s: {"token": "0" * 32},
    ),
    Rule(
        "assignments.answer_regrade",
        "POST",
        lambda s: "/grading/regrades/999999",
        staff_only(404),
        data=lambda s: {"answer": "decline", "response": "No."},
    ),
    Rule(
        "assignments.download_all",
        "GET",
        lambda s: f"/grading/assignments/{s.assignment.id}/submissions.zip",
        staff_only(200),
    ),
    Rule(
        "assignments.extensions",
        "GET",
        lambda s: f"/grading/assignments/{s.assignment.id}/extensions",
        staff_only(200),
    ),
    Rule(
        "assignments.extensions",
        "POST",
        lambda s: f"/grading/assignments/{s.assignment.id}/extensions",
        staff_only(422),
        data=lambda s: {"reason": ""},
    ),
    Rule(
        "assignments.second_mark",
        "GET",
        lambda s: f"/grading/submissions/{s.submission.id}/second-mark",
        staff_only(200),
    ),
    Rule(
        "assignments.second_mark",
        "POST",
        lambda s: f"/grading/submissions/{s.submission.id}/second-mark",
        staff_only(422),  # not sampled for second marking
        data=lambda s: {},
    ),
    Rule(
        "assignments.moderate",
        "GET",
        lambda s: f"/grading/submissions/{s.submission.id}/moderate",
        staff_only(200),
    ),
    Rule(
        "assignments.moderate",
        "POST",
        lambda s: f"/grading/submissions/{s.submission.id}/moderate",
        staff_only(422),
        data=lambda s: {},
    ),
    Rule(
        "assignments.agreement",
        "GET",
        lambda s: f"/grading/tracks/{s.assignment.track_id}/agreement",
        staff_only(200),
    ),
    Rule(
        "assignments.calibration",
        "GET",
        lambda s: f"/grading/tracks/{s.exemplar.assignment.track_id}/calibration",
        staff_only(200),
    ),
    Rule("assignments.calibrate", "GET", lambda s: f"/grading/exemplars/{s.exemplar.id}", staff_only(200)),
    Rule(
        "assignments.calibrate",
        "POST",
        lambda s: f"/grading/exemplars/{s.exemplar.id}",
        staff_only(422),  # no level chosen
        data=lambda s: {},
    ),
    Rule(
        "assignments.waive_calibration",
        "POST",
        lambda s: f"/grading/tracks/{s.exemplar.assignment.track_id}/calibration/waive",
        admin_only("redirect"),
        data=lambda s: {"user": str(s.instructor.id), "reason": "An experienced external examiner."},
    ),
]

"""Hostile input in every field one user types and others read renders inert on every page that shows it: names
(grading queue and page, quiz attempt lists, certificates), rubric feedback, regrade reasons, revocation reasons,
and lesson Markdown."""

from __future__ import annotations

from pathlib import Path

import pytest
from markupsafe import escape

from lms.accounts import operations as accounts
from lms.assignments import operations as assignments
from lms.certificates import operations as certificates
from lms.clock import now_utc
from lms.courses.loader import sync
from lms.extensions import db
from tests.fixtures.courses.samples import check_tree, copy_valid_tree, enrol_directly
from tests.hostile import XSS_PAYLOADS, active_content


def shown_inert(client, path: str, text: str, status: int = 200) -> str:
    """The page at `path` shows `text` (escaped, as typed) and nothing in it can run script."""
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    html = response.get_data(as_text=True)
    assert str(escape(text)) in html, f"{path} does not show {text!r}"
    assert active_content(html) == [], path
    return html


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_hostile_names_feedback_and_reasons_render_inert(client, login, samples, payload):
    name = f"Eve {payload}"
    student, grader = samples.other_student, samples.instructor
    accounts.update_profile(student, name)
    accounts.update_profile(samples.student, f"Mallory {payload}")

    # Names, as staff see them: the grading queue and page, the quiz attempts list and attempt page.
    login(client, grader)
    submission = samples.submission
    shown_inert(client, "/grading?state=all", name)
    shown_inert(client, f"/grading/submissions/{submission.id}", name)
    shown_inert(client, f"/staff/quizzes/{samples.quiz_slug}/attempts", f"Mallory {payload}")
    shown_inert(client, f"/staff/quizzes/attempts/{samples.attempt_id}", f"Mallory {payload}")

    # Rubric comments and overall feedback, as the student reads them once released.
    comment, feedback = f"Criterion note {payload}", f"Overall {payload}"
    criteria = submission.assignment.active_criteria
    now = now_utc()
    assignments.save_grade(
        grader, submission, {c.id: "sound" for c in criteria}, {c.id: comment for c in criteria}, feedback,
        "pass", now,
    )  # fmt: skip
    assignments.release_grade(grader, submission, now)
    login(client, student)
    shown_inert(client, f"/assignments/submissions/{submission.id}", comment)
    shown_inert(client, f"/assignments/submissions/{submission.id}", feedback)

    # The regrade reason, as staff read it.
    reason = f"Please look again {payload}"
    assignments.request_regrade(student, submission, reason, now_utc())
    login(client, grader)
    shown_inert(client, f"/grading/submissions/{submission.id}", reason)

    # A certificate issued under the hostile name: public page, staff pages; then revoked with a hostile reason.
    certificate = certificates.issue_certificate(
        student, samples.certificate_track, grader, f"Issued {payload}"
    )
    anonymous = client.application.test_client()
    shown_inert(anonymous, f"/verify/{certificate.display_code}", name)
    shown_inert(client, "/staff/certificates", name)
    revocation = f"Revoked {payload}"
    certificates.revoke_certificate(certificate, grader, revocation)
    shown_inert(anonymous, f"/verify/{certificate.display_code}", " ".join(revocation.split()), status=410)
    shown_inert(client, f"/staff/certificates/{certificate.display_code}", " ".join(revocation.split()))
    document = anonymous.get(f"/verify/{certificate.display_code}.json")
    assert document.status_code == 410
    assert document.get_json()["revocationReason"] == " ".join(revocation.split())  # data, not markup
    if payload == "{{ 7*7 }}":  # never evaluated as a template (the random code itself may hold "49")
        page = anonymous.get(f"/verify/{certificate.display_code}").get_data(as_text=True)
        assert "Revoked 49" not in page and "Eve 49" not in page


def test_hostile_lesson_markdown_and_titles_render_inert(app, client, login, student, tmp_path: Path):
    tree = copy_valid_tree(tmp_path)
    lesson = tree / "beta/only/solo.md"
    text = lesson.read_text().replace('title = "', 'title = "<img src=x onerror=alert(1)> ', 1)
    lesson.write_text(text + "\n\n" + "\n\n".join(XSS_PAYLOADS) + "\n\n" + "\n".join(XSS_PAYLOADS) + "\n")
    content = check_tree(tree)
    assert content.problems, "check-content flags raw HTML and javascript: links before anything is loaded"
    sync(content)  # loaded anyway (say, by an older checker): nothing active may reach a page
    db.session.commit()
    from lms.courses.models import Track

    track = db.session.execute(db.select(Track).where(Track.slug == "beta")).scalar_one()
    enrol_directly(student.id, track)
    login(client, student)
    for path in ("/tracks/beta/lessons/solo", "/tracks/beta", "/tracks", "/dashboard"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert active_content(html) == [], (path, active_content(html))
    page = client.get("/tracks/beta/lessons/solo").get_data(as_text=True)
    assert "alert(1)" in page  # the text of the payloads is there, as text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page  # the hostile title, escaped

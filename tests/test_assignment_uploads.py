"""Uploads say what they are: a file whose name contradicts its content is refused with a message that says what
it really is, and the "File too large" page gives the limit, the file's size and the way back."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from lms import clock
from lms.assignments import filetypes
from lms.assignments.models import FeedbackFile, Submission
from lms.extensions import db
from tests.fixtures.files import rows, samples
from tests.fixtures.files.uploads import post_upload
from tests.support import field_error

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
URL = "/assignments/strategist/handbook"

CONTRADICTIONS = [
    (samples.text, "fake.pdf", "This file is plain text, not a PDF"),
    (samples.text, "fake.docx", "This file is plain text, not a Word document (DOCX)"),
    (samples.pdf, "report.docx", "This file is a PDF, not a Word document (DOCX)"),
    (
        samples.docx,
        "slides.pptx",
        "This file is a Word document (DOCX), not a PowerPoint presentation (PPTX)",
    ),
    (samples.markdown, "handbook.odt", "This file is Markdown text, not an OpenDocument text (ODT)"),
    (samples.pptx, "handbook.pdf", "This file is a PowerPoint presentation (PPTX), not a PDF"),
    (samples.pdf, "handbook.doc", "This file is a PDF, not an old Word document (.doc)"),
    (samples.odt, "notes.txt", "This file is an OpenDocument text (ODT), not plain text"),
]


@pytest.fixture
def course(app, student, client, login):
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track)
    rows.enroll(student, track, T0)
    login(client, student)
    return SimpleNamespace(track=track, assignment=assignment, student=student)


def stored_files(app) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize(("make", "name", "message"), CONTRADICTIONS, ids=[n for _, n, _ in CONTRADICTIONS])
def test_a_file_whose_name_contradicts_its_content_is_refused(app, client, course, make, name, message):
    response = post_upload(client, URL + "/upload", make(), name)
    assert response.status_code == 422
    error = field_error(response.get_data(as_text=True), "file")
    assert error is not None and message in error
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 0
    assert stored_files(app) == []


@pytest.mark.parametrize(
    ("make", "name", "kept"),
    [
        (samples.text, "notes.md", "md"),  # plain text is Markdown too: the name decides between them
        (samples.markdown, "notes.txt", "txt"),
        (samples.pdf, "handbook", "pdf"),  # no extension claims nothing
        (samples.pdf, "handbook.final", "pdf"),  # nor one we do not know
        (samples.docx, "Handbook.DOCX", "docx"),
    ],
)
def test_names_that_agree_or_claim_nothing_are_kept_by_content(client, course, make, name, kept):
    assert post_upload(client, URL + "/upload", make(), name).status_code == 302
    assert db.session.execute(sa.select(Submission.detected_type)).scalar_one() == kept


def test_check_name_is_the_one_rule():
    assert filetypes.check_name("x.pdf", "pdf") == "pdf"
    assert filetypes.check_name(None, "txt") == "txt"
    assert filetypes.check_name("../../evil.txt", "md") == "txt"
    with pytest.raises(filetypes.UnsupportedFile, match="This file is plain text, not a PDF"):
        filetypes.check_name("fake.pdf", "txt")


def test_a_feedback_file_that_contradicts_its_name_is_refused_too(app, client, login, course, instructor):
    submission = rows.hand_in(course.student, course.assignment)
    login(client, instructor)
    response = post_upload(
        client, f"/grading/submissions/{submission.id}/feedback-files", samples.text(), "a.pdf"
    )
    assert response.status_code == 422
    assert "This file is plain text, not a PDF" in field_error(response.get_data(as_text=True), "file")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedbackFile)) == 0


@pytest.mark.app_config(MAX_CONTENT_LENGTH=1024 * 1024 + 64 * 1024)
def test_too_large_for_the_site_says_the_limit_the_size_and_leads_back(app, client, course):
    response = post_upload(client, URL + "/upload", samples.pdf() + b"%" * (2 * 1024 * 1024), "big.pdf")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "File too large" in page and "(1 MB)" in page and "what you sent was 2.0 MB" in page
    assert f'<a class="button" href="{URL}">Back to Social Media Strategy Handbook</a>' in page
    assert "Nothing was saved from this upload" in page
    assert stored_files(app) == []


def test_too_large_for_the_assignment_says_its_own_limit_and_leads_back(app, client, student, login):
    clock.freeze(T0)
    track = rows.make_track()
    rows.make_assignment(track, max_size_mb=1)
    rows.enroll(student, track, T0)
    login(client, student)
    response = post_upload(client, URL + "/upload", samples.pdf() + b"%" * (1024 * 1024), "big.pdf")
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "this assignment accepts (1 MB)" in page and "what you sent was 1.0 MB" in page
    assert f'href="{URL}">Back to Social Media Strategy Handbook</a>' in page


@pytest.mark.app_config(MAX_CONTENT_LENGTH=1024 * 1024 + 64 * 1024)
def test_a_large_feedback_file_leads_back_to_the_grading_page(app, client, login, course, instructor):
    submission = rows.hand_in(course.student, course.assignment)
    login(client, instructor)
    url = f"/grading/submissions/{submission.id}/feedback-files"
    response = post_upload(
        client, url, io.BytesIO(samples.pdf() + b"%" * (2 * 1024 * 1024)).getvalue(), "n.pdf"
    )
    assert response.status_code == 413
    assert f'href="/grading/submissions/{submission.id}">Back to' in response.get_data(as_text=True)

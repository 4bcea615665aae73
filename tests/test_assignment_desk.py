"""The grading desk: the rubric as a grid of radio buttons, previous / next in the queue's filter with "4 of 17" and
"save and next", the PDF served inline for our own frame, a first-page image, and the text of office files."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from lms import clock
from lms.accounts.models import Role
from lms.assignments import operations, preview, storage
from lms.assignments.models import Submission
from lms.extensions import db
from tests.fixtures.files import rows, samples

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def desk(app, make_user, instructor):
    """Four students of one handbook, handed in on days 1 to 4 (oldest first in the queue)."""
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track, criteria=3)
    handed = []
    for day in range(1, 5):
        student = make_user(Role.STUDENT, full_name=f"Student {day}")
        rows.enroll(student, track, T0)
        handed.append(
            rows.hand_in(
                student, assignment, samples.pdf(f"Work {day}"), f"work-{day}.pdf", T0 + rows.days(day)
            )
        )
    return SimpleNamespace(assignment=assignment, handed=handed, instructor=instructor)


def grade_data(assignment, level: str | None = "sound", decision: str = "", then: str = "") -> dict[str, str]:
    data = {"overall_comment": "Fine.", "decision": decision}
    for criterion in assignment.active_criteria:
        if level:
            data[f"level_{criterion.id}"] = level
        data[f"comment_{criterion.id}"] = ""
    if then:
        data["then"] = then
    return data


def test_the_rubric_is_a_grid_of_plain_radio_buttons_with_comments_that_expand(client, login, desk):
    login(client, desk.instructor)
    first = desk.handed[0]
    levels = dict.fromkeys((c.id for c in desk.assignment.active_criteria), "sound")
    operations.save_grade(desk.instructor, first, levels, {}, "", None, clock.now_utc())
    page = client.get(f"/grading/submissions/{first.id}").get_data(as_text=True)
    assert page.count('role="group" aria-labelledby="criterion-') == 3
    assert page.count('class="rubric-cell"') == 12  # 3 criteria x 4 levels, each cell a radio button's label
    criterion = desk.assignment.active_criteria[0]
    assert re.search(
        rf'<label class="rubric-cell" for="level-{criterion.id}-3"><input type="radio" id="level-{criterion.id}-3" '
        rf'name="level_{criterion.id}" data-points="3" value="excellent">',
        page,
    )
    assert 'data-points="2" value="sound" checked' in page
    assert (
        page.count('<details class="criterion-comment">') == 3
    )  # closed until opened (none has a comment yet)
    assert (
        f'<label class="visually-hidden" for="comment-{criterion.id}">Comment on Goal and purpose</label>'
        in page
    )
    assert 'Running total: <output data-rubric-total data-max="9">6 of 9 points</output>' in page
    assert '<button type="submit" class="button" name="then" value="next">Save and next</button>' in page
    assert 'src="/static/js/assignments.js' in page


def test_the_desk_says_where_the_version_stands_in_the_filter_and_links_its_neighbours(client, login, desk):
    login(client, desk.instructor)
    one, two, three, four = (s.id for s in desk.handed)
    page = client.get(f"/grading/submissions/{two}?state=todo").get_data(as_text=True)
    assert '<span class="desk-count" data-position>2 of 4</span>' in page
    assert f'rel="prev" href="/grading/submissions/{one}?state=todo"' in page
    assert f'rel="next" href="/grading/submissions/{three}?state=todo"' in page
    page = client.get(f"/grading/submissions/{four}").get_data(as_text=True)
    assert "4 of 4" in page and 'rel="next"' not in page
    # The queue's links carry the filter to the desk.
    queue = client.get("/grading?state=submitted&late=no").get_data(as_text=True)
    assert f'href="/grading/submissions/{one}?state=submitted&amp;late=no"' in queue

    rows.grade(desk.instructor, desk.handed[2], decision=None)  # three is now "in grading"
    page = client.get(f"/grading/submissions/{two}?state=submitted").get_data(as_text=True)
    assert "2 of 3" in page and f'rel="next" href="/grading/submissions/{four}?state=submitted"' in page
    page = client.get(f"/grading/submissions/{three}?state=submitted").get_data(as_text=True)
    assert "Not in this list (3 in it)" in page
    assert f'rel="next" href="/grading/submissions/{four}?state=submitted"' in page


def test_save_and_next_goes_to_the_next_in_the_filter_even_when_the_save_moves_this_one_out(
    client, login, desk
):
    login(client, desk.instructor)
    one, two = desk.handed[0].id, desk.handed[1].id
    response = client.post(
        f"/grading/submissions/{one}?state=submitted", data=grade_data(desk.assignment, then="next")
    )
    assert response.status_code == 302
    assert response.location == f"/grading/submissions/{two}?state=submitted"
    db.session.expire_all()
    assert db.session.get(Submission, one).state == "in_grading"  # saved, and no longer "submitted"

    last = desk.handed[-1].id
    response = client.post(f"/grading/submissions/{last}", data=grade_data(desk.assignment, then="next"))
    assert response.location == "/grading?state=todo"
    assert "That was the last submission in this list." in client.get(response.location).get_data(
        as_text=True
    )
    # A refused save stays on the page with what was typed, whatever button was pressed.
    response = client.post(
        f"/grading/submissions/{two}",
        data=grade_data(desk.assignment, level="weak", decision="pass", then="next"),
    )
    assert response.status_code == 422 and "do not meet the pass rule" in response.get_data(as_text=True)


def test_the_pdf_is_served_inline_for_our_own_frame_only(client, login, desk):
    login(client, desk.instructor)
    response = client.get(f"/grading/submissions/{desk.handed[0].id}/preview")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == "inline; filename=work-1.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.get_data() == samples.pdf("Work 1")


def test_the_first_page_as_an_image_for_browsers_that_cannot_show_pdfs(app, client, login, desk):
    login(client, desk.instructor)
    sid = desk.handed[0].id
    page = client.get(f"/grading/submissions/{sid}").get_data(as_text=True)
    assert (
        f'<img class="pdf-first-page" data-pdf-fallback hidden loading="lazy" src="/grading/submissions/{sid}/first-page.png"'
        in page
    )
    response = client.get(f"/grading/submissions/{sid}/first-page.png")
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = response.get_data()
    assert image.startswith(b"\x89PNG\r\n\x1a\n") and len(image) > 1000
    from PIL import Image

    width, height = Image.open(io.BytesIO(image)).size
    assert width == preview.PAGE_WIDTH_PX and height > width  # a portrait page
    cached = list((storage.upload_dir() / "previews").rglob("*.png"))
    assert len(cached) == 1
    assert client.get(f"/grading/submissions/{sid}/first-page.png").get_data() == image  # from the cache


def office(entries: dict[str, str], mimetype: str | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        if mimetype:
            archive.writestr(zipfile.ZipInfo("mimetype"), mimetype, zipfile.ZIP_STORED)
        for name, text in entries.items():
            archive.writestr(name, text, zipfile.ZIP_DEFLATED)
    return out.getvalue()


W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
T = 'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"'
DOCX = office(
    {
        "[Content_Types].xml": samples.CONTENT_TYPES.decode(),
        "word/document.xml": f"<w:document {W}><w:body><w:p><w:r><w:t>Goal and purpose</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>Grow bookings</w:t><w:tab/><w:t>by 10%.</w:t></w:r></w:p></w:body></w:document>",
    }
)
PPTX = office(
    {
        "[Content_Types].xml": samples.CONTENT_TYPES.decode(),
        "ppt/presentation.xml": "<p:presentation/>",
        "ppt/slides/slide2.xml": f"<p:sld xmlns:p='p' {A}><a:p><a:r><a:t>Second slide words</a:t></a:r></a:p></p:sld>",
        "ppt/slides/slide1.xml": f"<p:sld xmlns:p='p' {A}><a:p><a:r><a:t>First slide words</a:t></a:r></a:p></p:sld>",
    }
)
ODT = office(
    {
        "content.xml": f"<office:document-content xmlns:office='o' {T}><office:body><text:h>Market research</text:h>"
        "<text:p>Customers<text:s text:c='3'/>and <text:span>competitors</text:span>.</text:p></office:body>"
        "</office:document-content>",
    },
    mimetype="application/vnd.oasis.opendocument.text",
)


@pytest.mark.parametrize(
    ("data", "name", "expected"),
    [
        (DOCX, "handbook.docx", ["<p>Goal and purpose</p>", "<p>Grow bookings\tby 10%.</p>"]),
        (PPTX, "slides.pptx", ["<p>— Slide 1 —</p>", "<p>First slide words</p>", "<p>— Slide 2 —</p>"]),
        (ODT, "handbook.odt", ["<p>Market research</p>", "<p>Customers   and competitors.</p>"]),
        (samples.markdown(), "handbook.md", ["<p># Social Media Strategy Handbook</p>"]),
    ],
    ids=["docx", "pptx", "odt", "md"],
)
def test_office_files_show_their_text_beside_the_rubric(client, login, desk, make_user, data, name, expected):
    student = make_user(Role.STUDENT)
    rows.enroll(student, desk.assignment.track, T0)
    submission = rows.hand_in(student, desk.assignment, data, name)
    login(client, desk.instructor)
    page = client.get(f"/grading/submissions/{submission.id}").get_data(as_text=True)
    assert "<iframe" not in page and 'class="text-preview"' in page
    text = page[page.index('class="text-preview"') :]
    positions = [text.index(line) for line in expected]
    assert positions == sorted(positions)
    assert client.get(f"/grading/submissions/{submission.id}/first-page.png").status_code == 404


def test_text_extraction_refuses_what_could_make_the_page_expensive(tmp_path):
    bomb = tmp_path / "bomb.docx"
    bomb.write_bytes(
        office(
            {
                "word/document.xml": '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]>'
                f"<w:document {W}><w:body><w:p><w:r><w:t>&lol;</w:t></w:r></w:p></w:body></w:document>"
            }
        )
    )
    with pytest.raises(preview.PreviewUnavailable):
        preview.extract_text(bomb, "docx")
    spaces = tmp_path / "spaces.odt"
    spaces.write_bytes(office({"content.xml": f"<x {T}><text:p>a<text:s text:c='999999999'/>b</text:p></x>"}))
    [line] = preview.extract_text(spaces, "odt").paragraphs
    assert line == "a" + " " * 100 + "b"
    damaged = tmp_path / "damaged.docx"
    damaged.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    with pytest.raises(preview.PreviewUnavailable):
        preview.extract_text(damaged, "docx")

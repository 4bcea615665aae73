"""Instructors grade with the rubric: queue, grading states, release, blind marking, audit trail, regrades, zip."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from lms import clock, events
from lms.accounts.models import Role
from lms.assignments import operations
from lms.assignments.models import Grade, GradeChange, RegradeRequest, Submission
from lms.audit import AuditEvent
from lms.errors import DomainError
from lms.extensions import db
from tests.fixtures.files import rows, samples
from tests.support import recorded_statements

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def course(app, student, instructor):
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track, criteria=3)
    rows.enroll(student, track, T0)
    return SimpleNamespace(track=track, assignment=assignment, student=student, instructor=instructor)


@pytest.fixture
def handed_in(course):
    clock.freeze(T0 + rows.days(5))
    return rows.hand_in(course.student, course.assignment, samples.pdf(), "stella-handbook.pdf")


def criteria_ids(assignment) -> list[int]:
    return [c.id for c in assignment.active_criteria]


def grade_form(
    assignment, levels: list[str | None], decision: str = "", overall: str = "Overall fine."
) -> dict:
    data: dict[str, str] = {"overall_comment": overall, "decision": decision}
    for cid, level in zip(criteria_ids(assignment), levels, strict=True):
        if level:
            data[f"level_{cid}"] = level
        data[f"comment_{cid}"] = f"Comment on criterion {cid}: {level or 'not yet'}."
    return data


def reload(submission: Submission) -> Submission:
    db.session.expire_all()
    return db.session.get(Submission, submission.id)


# ---- the grading state machine -----------------------------------------------------------------------------


def test_grading_moves_from_submitted_to_in_grading_to_graded_to_released(client, login, course, handed_in):
    login(client, course.instructor)
    url = f"/grading/submissions/{handed_in.id}"
    page = client.get(url).get_data(as_text=True)
    assert "Goal and purpose" in page and "Excellent" in page and "Sound work on Market research." in page
    assert f'src="/grading/submissions/{handed_in.id}/preview"' in page  # the PDF beside the rubric

    assert client.post(url, data=grade_form(course.assignment, ["sound", None, None])).status_code == 302
    assert reload(handed_in).state == "in_grading"
    # Not finished: release is refused with a reason.
    client.post(url + "/release")
    assert reload(handed_in).state == "in_grading"
    assert "Finish the grade first" in client.get(url).get_data(as_text=True)

    client.post(url, data=grade_form(course.assignment, ["sound", "excellent", "weak"], "pass"))
    submission = reload(handed_in)
    assert submission.state == "graded"
    assert (submission.grade.points, submission.grade.max_points, submission.grade.complete) == (6, 9, True)

    assert client.post(url + "/release").status_code == 302
    submission = reload(handed_in)
    assert submission.state == "released"
    assert submission.grade.released_at == T0 + rows.days(5) and submission.grade.release_count == 1

    # Released grades are not edited in place.
    response = client.post(url, data=grade_form(course.assignment, ["weak", "weak", "weak"], "revise"))
    assert response.status_code == 422
    assert "This grade is released" in response.get_data(as_text=True)
    assert reload(handed_in).grade.points == 6


def test_pass_must_meet_the_rubrics_pass_rule(client, login, course, handed_in):
    login(client, course.instructor)
    url = f"/grading/submissions/{handed_in.id}"
    response = client.post(url, data=grade_form(course.assignment, ["weak", "weak", "sound"], "pass"))  # 4/9
    assert response.status_code == 422
    assert "do not meet the pass rule (at least 60% of the points and no criterion at its lowest level)" in (
        response.get_data(as_text=True)
    )
    # 6/9 is enough points, but a criterion marked missing fails the rule.
    response = client.post(
        url, data=grade_form(course.assignment, ["excellent", "excellent", "missing"], "pass")
    )
    assert response.status_code == 422
    assert reload(handed_in).grade is None
    # What the grader typed is kept in the form after the refusal.
    page = response.get_data(as_text=True)
    assert "Comment on criterion" in page and 'value="missing" checked' in page


def test_an_unknown_level_or_decision_is_refused(client, login, course, handed_in):
    login(client, course.instructor)
    url = f"/grading/submissions/{handed_in.id}"
    response = client.post(url, data=grade_form(course.assignment, ["brilliant", None, None]))
    assert response.status_code == 422
    assert "Choose one of the listed levels for Goal and purpose." in response.get_data(as_text=True)
    response = client.post(url, data=grade_form(course.assignment, ["sound", None, None], "maybe"))
    assert "Choose pass or return for revision." in response.get_data(as_text=True)
    assert reload(handed_in).grade is None


def test_students_see_only_released_grades_with_feedback_per_criterion(client, login, course, handed_in):
    rows.grade(
        course.instructor, handed_in, level="excellent", comment="Specific and sourced.", overall="Superb."
    )
    login(client, course.student)
    page = client.get(f"/assignments/submissions/{handed_in.id}").get_data(as_text=True)
    assert "Specific and sourced." not in page and "Superb." not in page
    assert "Your grade will appear here once your instructor releases it." in page

    operations.release_grade(course.instructor, reload(handed_in), clock.now_utc())
    page = client.get(f"/assignments/submissions/{handed_in.id}").get_data(as_text=True)
    assert "<strong>Passed</strong>" in page and "9 of 9 points (100.0%)" in page
    for title in ("Goal and purpose", "Market research", "SWOT analysis"):
        assert f"Specific and sourced. ({title})" in page
    assert "Superb." in page


def test_a_return_for_revision_lets_the_student_hand_in_a_new_version(client, login, course, handed_in):
    rows.grade(course.instructor, handed_in, level="weak", decision="revise", release=True)
    assert reload(handed_in).state == "returned"
    assert operations.has_passed_assignment(course.student.id, course.track.id) is False
    login(client, course.student)
    page = client.get(f"/assignments/submissions/{handed_in.id}").get_data(as_text=True)
    assert "Returned for revision" in page and "submit a new version" in page
    second = rows.hand_in(course.student, course.assignment, samples.pdf("v2"), "v2.pdf")
    assert (second.version, second.state, second.is_revision) == (2, "submitted", True)


# ---- the audit trail ---------------------------------------------------------------------------------------


def test_every_grade_change_is_kept_with_who_when_and_the_old_and_new_values(
    client, login, course, handed_in, make_user
):
    other = make_user(Role.ADMIN, full_name="Olga Other")
    url = f"/grading/submissions/{handed_in.id}"
    login(client, course.instructor)
    client.post(url, data=grade_form(course.assignment, ["sound", "sound", None]))
    clock.freeze(T0 + rows.days(6))
    login(client, other)
    client.post(
        url, data=grade_form(course.assignment, ["sound", "weak", "excellent"], "pass", overall="Changed.")
    )
    client.post(
        url, data=grade_form(course.assignment, ["sound", "weak", "excellent"], "pass", overall="Changed.")
    )
    client.post(url + "/release")

    changes = db.session.execute(sa.select(GradeChange).order_by(GradeChange.id)).scalars().all()
    assert [c.action for c in changes] == ["saved", "saved", "released"]  # an identical save adds nothing
    first, second, released = changes
    assert (first.changed_by_id, first.changed_at, first.old) == (
        course.instructor.id,
        T0 + rows.days(5),
        None,
    )
    assert first.new["points"] == 4 and first.new["decision"] is None
    assert (second.changed_by_id, second.changed_at) == (other.id, T0 + rows.days(6))
    assert second.old == first.new
    assert second.new["points"] == 6 and second.new["decision"] == "pass"
    assert second.new["overall_comment"] == "Changed."
    cid = str(criteria_ids(course.assignment)[1])
    assert (second.old["scores"][cid]["level"], second.new["scores"][cid]["level"]) == ("sound", "weak")
    assert released.new["release"] == 1
    event = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "assignment.grade_released")
    ).scalar_one()
    assert (event.actor_id, event.subject_id, event.data["decision"]) == (other.id, str(handed_in.id), "pass")

    login(client, course.instructor)
    page = client.get(url).get_data(as_text=True)
    assert "History of this grade" in page and "Olga Other" in page and "4 → 6 / 9" in page


def test_editing_the_rubric_later_never_rewrites_a_released_grade(course, handed_in):
    rows.grade(course.instructor, handed_in, level="excellent", release=True)
    criterion = course.assignment.active_criteria[0]
    criterion.levels[-1].points = 10
    criterion.levels[-1].name = "outstanding"
    db.session.commit()
    grade = reload(handed_in).grade
    assert grade.points == 9
    assert (
        grade.score_for(criterion.id).level_name == "excellent" and grade.score_for(criterion.id).points == 3
    )


# ---- release, certificates ---------------------------------------------------------------------------------


def test_releasing_a_pass_tells_certificates_and_has_passed_becomes_true(course, handed_in):
    heard: list[events.ProgressChanged] = []
    with events.subscribed(events.ProgressChanged, heard.append):
        assert operations.has_passed_assignment(course.student.id, course.track.id) is False
        rows.grade(course.instructor, handed_in)
        assert heard == [] and operations.has_passed_assignment(course.student.id, course.track.id) is False
        operations.release_grade(course.instructor, reload(handed_in), clock.now_utc())
    assert heard == [events.ProgressChanged(user_id=course.student.id, track_id=course.track.id)]
    assert operations.has_passed_assignment(course.student.id, course.track.id) is True
    other_track = rows.make_track("manager", "Social Media Manager")
    assert operations.has_passed_assignment(course.student.id, other_track.id) is False


def test_a_returned_grade_emits_nothing(course, handed_in):
    heard: list[events.ProgressChanged] = []
    with events.subscribed(events.ProgressChanged, heard.append):
        rows.grade(course.instructor, handed_in, level="weak", decision="revise", release=True)
    assert heard == []


def test_the_database_refuses_a_release_of_an_unfinished_grade(course, handed_in):
    grade = rows.grade(course.instructor, handed_in, decision=None)
    grade.released_at = clock.now_utc()
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()


# ---- blind marking -----------------------------------------------------------------------------------------


@pytest.fixture
def blind(app, make_user, instructor):
    clock.freeze(T0)
    track = rows.make_track("manager", "Social Media Manager")
    assignment = rows.make_assignment(track, "playbook", criteria=2, blind=True)
    student = make_user(Role.STUDENT, full_name="Bartholomew Blindly")
    rows.enroll(student, track, T0)
    submission = rows.hand_in(student, assignment, samples.pdf(), "Bartholomew-playbook.pdf")
    return SimpleNamespace(
        assignment=assignment, student=student, submission=submission, instructor=instructor
    )


def test_blind_marking_shows_graders_a_number_not_a_name_until_release(client, login, blind):
    login(client, blind.instructor)
    sid = blind.submission.id
    queue = client.get("/grading").get_data(as_text=True)
    grading = client.get(f"/grading/submissions/{sid}").get_data(as_text=True)
    own_page = client.get(f"/assignments/submissions/{sid}").get_data(as_text=True)
    for page in (queue, grading, own_page):
        assert "Bartholomew" not in page
    assert f"#{sid}" in queue and "Hidden (blind marking)" in queue
    assert f"Submission {sid}" in grading
    download = client.get(f"/assignments/submissions/{sid}/file")
    assert download.headers["Content-Disposition"] == f"attachment; filename=submission-{sid}.pdf"
    download.close()
    archive = client.get(f"/grading/assignments/{blind.assignment.id}/submissions.zip")
    names = zipfile.ZipFile(io.BytesIO(archive.get_data())).namelist()
    assert names == [f"submission {sid}/submission-{sid}.pdf"]

    rows.grade(blind.instructor, reload(blind.submission), release=True)
    assert "Bartholomew Blindly" in client.get(f"/grading/submissions/{sid}").get_data(as_text=True)
    assert "Bartholomew Blindly" in client.get("/grading?state=all").get_data(as_text=True)


# ---- regrade requests --------------------------------------------------------------------------------------

REASON = "The SWOT section cites three sources on page 6; please look at it again."


def test_a_regrade_request_once_per_release_shown_in_the_queue_and_answered(client, login, course, handed_in):
    rows.grade(course.instructor, handed_in, level="sound", release=True)
    sid = handed_in.id
    login(client, course.student)
    page = client.get(f"/assignments/submissions/{sid}").get_data(as_text=True)
    assert "Ask for a regrade" in page
    assert client.post(f"/assignments/submissions/{sid}/regrade", data={"reason": "short"}).status_code == 422
    assert client.post(f"/assignments/submissions/{sid}/regrade", data={"reason": REASON}).status_code == 302
    response = client.post(f"/assignments/submissions/{sid}/regrade", data={"reason": REASON})
    assert response.status_code == 422
    assert "You have already asked for a regrade of this grade." in response.get_data(as_text=True)
    assert "Ask for a regrade" not in client.get(f"/assignments/submissions/{sid}").get_data(as_text=True)

    login(client, course.instructor)
    queue = client.get("/grading").get_data(as_text=True)  # "needs attention" includes open regrades
    assert '<span class="badge badge-warn">Regrade requested</span>' in queue and f"#{sid}" in queue
    assert "1 submission, oldest first." in queue  # counted once (the count adds pending and regraded ones)
    assert f"#{sid}" in client.get("/grading?state=regrade").get_data(as_text=True)
    request = db.session.execute(sa.select(RegradeRequest)).scalar_one()
    assert REASON in client.get(f"/grading/submissions/{sid}").get_data(as_text=True)
    client.post(
        f"/grading/regrades/{request.id}",
        data={"answer": "decline", "response": "Page 6 was read; it stands."},
    )
    request = db.session.execute(sa.select(RegradeRequest)).scalar_one()
    assert (request.state, request.answered_by_id) == ("declined", course.instructor.id)
    assert reload(handed_in).state == "released"
    assert f"#{sid}" not in client.get("/grading?state=regrade").get_data(as_text=True)
    assert "0 submissions, oldest first." in client.get("/grading").get_data(as_text=True)

    login(client, course.student)
    page = client.get(f"/assignments/submissions/{sid}").get_data(as_text=True)
    assert "Page 6 was read; it stands." in page and "Declined" in page


def test_an_accepted_regrade_reopens_grading_and_a_new_release_allows_a_new_request(course, handed_in):
    rows.grade(course.instructor, handed_in, level="sound", release=True)
    now = clock.now_utc()
    request = operations.request_regrade(course.student, reload(handed_in), REASON, now)
    with pytest.raises(DomainError, match="Write a reply"):
        operations.answer_regrade(course.instructor, request, True, "  ", now)
    db.session.rollback()
    operations.answer_regrade(
        course.instructor, db.session.get(RegradeRequest, request.id), True, "Agreed.", now
    )
    submission = reload(handed_in)
    assert submission.state == "in_grading" and submission.grade.released_at is None
    assert operations.has_passed_assignment(course.student.id, course.track.id) is False
    actions = db.session.execute(sa.select(GradeChange.action).order_by(GradeChange.id)).scalars().all()
    assert actions == ["saved", "released", "reopened"]
    with pytest.raises(DomainError, match="already been answered"):
        operations.answer_regrade(
            course.instructor, db.session.get(RegradeRequest, request.id), False, "x", now
        )

    rows.grade(course.instructor, reload(handed_in), level="excellent", release=True)
    submission = reload(handed_in)
    assert (submission.state, submission.grade.points, submission.grade.release_count) == ("released", 9, 2)
    second = operations.request_regrade(course.student, submission, REASON, now)
    assert second.release_number == 2


def test_no_regrade_before_release(course, handed_in):
    with pytest.raises(DomainError, match="once your grade is released"):
        operations.request_regrade(course.student, handed_in, REASON, clock.now_utc())


# ---- the queue ---------------------------------------------------------------------------------------------


@pytest.fixture
def crowd(app, make_user, instructor):
    """Two tracks, several students, submissions in different states handed in at different times."""
    clock.freeze(T0)
    strategist = rows.make_track()
    manager = rows.make_track("manager", "Social Media Manager")
    handbook = rows.make_assignment(strategist, criteria=2)
    playbook = rows.make_assignment(manager, "playbook", criteria=2)
    made = {}
    plan = [
        ("ann", handbook, 3, None),
        ("bob", handbook, 1, "in_grading"),
        ("cat", handbook, 25, None),  # late: due on day 21
        ("dan", playbook, 2, "released"),
        ("eve", playbook, 4, "returned"),
    ]
    for name, assignment, day, state in plan:
        user = make_user(Role.STUDENT, full_name=f"{name.capitalize()} Student")
        rows.enroll(user, assignment.track, T0)
        made[name] = rows.hand_in(user, assignment, now=T0 + rows.days(day))
        if state == "in_grading":
            rows.grade(instructor, made[name], decision=None)
        elif state == "released":
            rows.grade(instructor, made[name], release=True)
        elif state == "returned":
            rows.grade(instructor, made[name], level="weak", decision="revise", release=True)
    return SimpleNamespace(**made, instructor=instructor)


def listed(page: str) -> list[str]:
    return re.findall(r"<td>([A-Z][a-z]+) Student</td>", page)


QUEUE_VIEWS = [
    ("", ["Bob", "Ann", "Cat"]),  # needs attention, oldest first
    ("?state=all", ["Bob", "Dan", "Ann", "Eve", "Cat"]),
    ("?state=submitted", ["Ann", "Cat"]),
    ("?state=in_grading", ["Bob"]),
    ("?state=released", ["Dan"]),
    ("?state=returned", ["Eve"]),
    ("?state=all&track=manager", ["Dan", "Eve"]),
    ("?state=all&late=yes", ["Cat"]),
    ("?state=all&late=no&track=strategist", ["Bob", "Ann"]),
    ("?state=nonsense", ["Bob", "Ann", "Cat"]),
]


def test_the_queue_filters_by_track_state_and_lateness_oldest_first(client, login, crowd):
    login(client, crowd.instructor)
    for query, expected in QUEUE_VIEWS:
        page = client.get("/grading" + query).get_data(as_text=True)
        assert listed(page) == expected, query
    assert "Late by 4 days" in client.get("/grading?late=yes").get_data(as_text=True)


def count_queries(fn) -> int:
    with recorded_statements() as statements:
        fn()
    return len(statements)


def test_the_queue_and_grading_pages_run_a_constant_number_of_queries(client, login, crowd, make_user):
    login(client, crowd.instructor)
    pages = ["/grading?state=all", f"/grading/submissions/{crowd.ann.id}", "/dashboard"]
    before = [count_queries(lambda url=url: client.get(url)) for url in pages]
    handbook = crowd.ann.assignment
    for n in range(4):
        user = make_user(Role.STUDENT)
        rows.enroll(user, handbook.track, T0)
        rows.hand_in(user, handbook, now=T0 + rows.days(n))
    after = [count_queries(lambda url=url: client.get(url)) for url in pages]
    assert after == before


def test_staff_see_the_grading_menu_and_a_waiting_count_students_do_not(client, login, crowd, student):
    login(client, crowd.instructor)
    page = client.get("/dashboard").get_data(as_text=True)
    assert '<a href="/grading">Grading</a>' in page
    assert "3 submissions waiting for a grade." in page
    login(client, student)
    assert '<a href="/grading">Grading</a>' not in client.get("/dashboard").get_data(as_text=True)


# ---- files for staff ---------------------------------------------------------------------------------------


def test_download_all_gives_the_latest_version_of_each_student_in_a_folder_each(client, login, crowd):
    login(client, crowd.instructor)
    handbook = crowd.ann.assignment
    ann = crowd.ann.user
    rows.upload(ann, handbook, samples.markdown(), "ann-v2.md", now=T0 + rows.days(6))
    newest = operations.submit_draft(ann, handbook, True, T0 + rows.days(6))
    response = client.get(f"/grading/assignments/{handbook.id}/submissions.zip")
    assert response.status_code == 200
    assert (
        response.headers["Content-Disposition"] == "attachment; filename=strategist-handbook-submissions.zip"
    )
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    names = sorted(archive.namelist())
    assert names == sorted(
        [
            f"Ann Student - submission {newest.id}/ann-v2.md",
            f"Bob Student - submission {crowd.bob.id}/handbook.pdf",
            f"Cat Student - submission {crowd.cat.id}/handbook.pdf",
        ]
    )
    assert archive.read(f"Ann Student - submission {newest.id}/ann-v2.md") == samples.markdown()


def test_pdfs_preview_inline_and_other_formats_do_not(client, login, course, handed_in, make_user):
    login(client, course.instructor)
    response = client.get(f"/grading/submissions/{handed_in.id}/preview")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"] == "inline; filename=stella-handbook.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.get_data() == samples.pdf()
    other = make_user(Role.STUDENT)
    rows.enroll(other, course.track, T0)
    docx = rows.hand_in(other, course.assignment, samples.docx(), "theirs.docx")
    assert client.get(f"/grading/submissions/{docx.id}/preview").status_code == 404
    page = client.get(f"/grading/submissions/{docx.id}").get_data(as_text=True)
    assert "<iframe" not in page and "Only PDF files preview here" in page


def test_grades_are_one_per_submission(course, handed_in):
    rows.grade(course.instructor, handed_in, decision=None)
    db.session.add(Grade(submission_id=handed_in.id))
    with pytest.raises(sa.exc.IntegrityError):
        db.session.commit()
    db.session.rollback()

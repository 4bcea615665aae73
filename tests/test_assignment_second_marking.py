"""Second marking and moderation: the sampled share, a blind second marker who is not the first, release waiting
for agreement, the moderator's decision released, and per-marker, per-criterion kappa on the agreement page."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from lms import clock
from lms.accounts.models import Role, User
from lms.assignments import moderation, operations
from lms.assignments.marking_models import Mark, SecondMarking
from lms.assignments.models import GradeChange, Submission
from lms.errors import DomainError
from lms.extensions import db
from tests.fixtures.files import rows, samples

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
NAMES = ["missing", "weak", "sound", "excellent"]


@pytest.fixture
def course(app, student, make_user):
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track, criteria=3)
    assignment.second_marking = 1.0  # every version: the workflow tests need a sampled one
    db.session.commit()
    rows.enroll(student, track, T0)
    first = make_user(Role.INSTRUCTOR, full_name="Fiona First")
    second = make_user(Role.INSTRUCTOR, full_name="Sam Second")
    moderator = make_user(Role.ADMIN, full_name="Maud Moderator")
    clock.freeze(T0 + rows.days(2))
    submission = rows.hand_in(student, assignment, samples.pdf(), "handbook.pdf")
    return SimpleNamespace(
        track=track,
        assignment=assignment,
        first=first,
        second=second,
        moderator=moderator,
        submission=submission,
    )


def form(
    assignment, levels: list[str], decision: str, comment: str = "", overall: str = ""
) -> dict[str, str]:
    data = {"decision": decision, "overall_comment": overall}
    for criterion, level in zip(assignment.active_criteria, levels, strict=True):
        data[f"level_{criterion.id}"] = level
        data[f"comment_{criterion.id}"] = comment
    return data


def levels_of(assignment, names: list[str]) -> dict[int, str]:
    return {c.id: n for c, n in zip(assignment.active_criteria, names, strict=True)}


def reload(submission: Submission) -> Submission:
    db.session.expire_all()
    return db.session.get(Submission, submission.id)


# ---- which versions are second-marked ----------------------------------------------------------------------


@pytest.mark.parametrize("share", [0.2, 1 / 3, 0.5, 0.05])
@pytest.mark.parametrize("offset", [0.0, 0.5, 0.999])
def test_the_draw_keeps_the_share_exact_at_every_point_of_the_cohort(share, offset):
    picked = 0
    for n in range(1, 201):
        picked += moderation.is_sampled(n, share, offset)
        assert picked == int(n * share + offset), n  # within one version of n * share, whatever the moment
    assert moderation.is_sampled(7, 0.0, 0.3) is False and moderation.is_sampled(7, 1.0, 0.3) is True


def test_twenty_of_a_hundred_versions_go_to_a_second_marker(app, instructor):
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track, criteria=2)
    assignment.second_marking = 0.2
    students = [
        User(email=f"s{n}@example.org", full_name=f"Student {n}", password_hash="x", role="student")
        for n in range(100)
    ]
    db.session.add_all(students)
    db.session.flush()
    for n, user in enumerate(students):
        db.session.add(
            Submission(
                assignment_id=assignment.id,
                user_id=user.id,
                state="submitted",
                stored_name=f"stored-{n:03d}",
                original_name="handbook.pdf",
                size_bytes=10,
                sha256="0" * 64,
                detected_type="pdf",
                submitted_at=T0,
                version=1,
            )
        )
    db.session.commit()
    submissions = db.session.execute(sa.select(Submission).order_by(Submission.id)).scalars().all()
    first_level = {assignment.active_criteria[0].id: "sound"}
    for n, submission in enumerate(submissions, start=1):
        operations.save_grade(instructor, submission, first_level, {}, "", None, T0)
        if n == 10:
            assert db.session.scalar(sa.select(sa.func.count()).where(SecondMarking.selected)) == 2
    draws = db.session.execute(sa.select(SecondMarking).order_by(SecondMarking.sequence)).scalars().all()
    assert [d.sequence for d in draws] == list(range(1, 101))
    assert sum(d.selected for d in draws) == 20
    assert {d.state for d in draws} == {"awaiting_second", "not_sampled"}
    # The draw is stored, so grading again never draws again.
    chosen = {d.submission_id for d in draws if d.selected}
    operations.save_grade(
        instructor, submissions[0], {assignment.active_criteria[0].id: "weak"}, {}, "", None, T0
    )
    db.session.expire_all()
    assert {
        d.submission_id for d in db.session.execute(sa.select(SecondMarking)).scalars() if d.selected
    } == chosen
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SecondMarking)) == 100


def test_without_a_share_nothing_is_drawn_and_release_is_as_before(app, student, instructor):
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track, criteria=3)
    rows.enroll(student, track, T0)
    submission = rows.hand_in(student, assignment)
    rows.grade(instructor, submission, "sound", "pass", release=True)
    assert reload(submission).state == "released"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SecondMarking)) == 0


# ---- the blind second marker -------------------------------------------------------------------------------


def test_the_second_marker_is_not_the_first_and_marks_blind(client, login, course):
    a, sub = course.assignment, course.submission
    login(client, course.first)
    desk = f"/grading/submissions/{sub.id}"
    client.post(desk, data=form(a, ["sound"] * 3, "pass", "FIRST-MARKER-NOTE", "FIRST-OVERALL"))
    assert reload(sub).state == "graded"
    # The first marker may not second-mark their own work.
    response = client.post(desk + "/second-mark", data=form(a, ["sound"] * 3, "pass"))
    assert response.status_code == 422
    assert "a different marker must give the second" in response.get_data(as_text=True)

    login(client, course.second)
    # The first desk would show the first grade: the second marker is sent to the blind desk instead.
    response = client.get(desk)
    assert response.status_code == 302 and response.headers["Location"].endswith("/second-mark")
    page = client.get(desk + "/second-mark").get_data(as_text=True)
    assert "FIRST-MARKER-NOTE" not in page and "FIRST-OVERALL" not in page and "data-first-grade" not in page
    # Nor can they change the first grade from the first desk.
    client.post(desk, data=form(a, ["weak"] * 3, "revise"))
    assert reload(sub).grade.points == 6 and reload(sub).grade.grader_id == course.first.id
    # A partial second mark still shows nothing of the first.
    client.post(desk + "/second-mark", data={f"level_{a.active_criteria[0].id}": "sound", "decision": ""})
    assert "FIRST-MARKER-NOTE" not in client.get(desk + "/second-mark").get_data(as_text=True)
    # Once their own mark is complete, the first grade shows beside it.
    response = client.post(desk + "/second-mark", data=form(a, ["sound", "sound", "excellent"], "pass"))
    assert response.status_code == 302
    page = client.get(desk + "/second-mark").get_data(as_text=True)
    assert (
        "FIRST-MARKER-NOTE" in page and "FIRST-OVERALL" in page and "the first marker's grade stands" in page
    )

    # Someone else may not become a second second marker, and the second marker may not grade first.
    with pytest.raises(DomainError, match="Another marker is this version's second marker"):
        operations.save_second_mark(course.moderator, sub, levels_of(a, ["sound"] * 3), {}, "", "pass", T0)
    db.session.rollback()
    with pytest.raises(DomainError, match="second marker, so you cannot also give its first grade"):
        operations.save_grade(course.second, reload(sub), levels_of(a, ["sound"] * 3), {}, "", "pass", T0)


def test_within_the_tolerance_the_first_grade_stands_once_the_second_mark_is_in(course):
    a, sub = course.assignment, course.submission
    operations.save_grade(
        course.first, sub, levels_of(a, ["sound", "sound", "excellent"]), {}, "", "pass", T0
    )
    with pytest.raises(DomainError, match="release waits for the second marker"):
        operations.release_grade(course.first, reload(sub), T0)
    db.session.rollback()
    # One level apart on one criterion and one point apart on the total: within the default tolerance.
    operations.save_second_mark(course.second, reload(sub), levels_of(a, ["sound"] * 3), {}, "", "pass", T0)
    assert moderation.marking_of(sub.id).state == "agreed"
    grade = operations.release_grade(course.first, reload(sub), T0)
    assert (reload(sub).state, grade.points, grade.grader_id) == ("released", 7, course.first.id)


def test_beyond_the_tolerance_a_moderator_decides_and_the_decision_is_released(client, login, course):
    a, sub = course.assignment, course.submission
    operations.save_grade(course.first, sub, levels_of(a, ["sound"] * 3), {}, "First.", "pass", T0)
    operations.save_second_mark(course.second, reload(sub), levels_of(a, ["weak"] * 3), {}, "", "revise", T0)
    marking = moderation.marking_of(sub.id)
    assert marking.state == "awaiting_moderation"
    assert moderation.disagreements(a, reload(sub).grade, moderation.latest_mark("second", sub.id)) == [
        "totals 6 and 3 are more than 2 points apart",
        "decisions differ (pass and revise)",
    ]
    with pytest.raises(DomainError, match="release waits for the moderator"):
        operations.release_grade(course.first, reload(sub), T0)
    db.session.rollback()
    for marker in (course.first, course.second):
        with pytest.raises(DomainError, match="a moderator must be someone who did not"):
            operations.decide(marker, reload(sub), levels_of(a, ["sound"] * 3), {}, "", "pass", T0)
        db.session.rollback()

    login(client, course.moderator)
    page = client.get(f"/grading/tracks/{course.track.id}/agreement").get_data(as_text=True)
    assert f'href="/grading/submissions/{sub.id}/moderate"' in page
    page = client.get(f"/grading/submissions/{sub.id}/moderate").get_data(as_text=True)
    assert "Beyond the tolerance: totals 6 and 3" in page and "First." in page  # both marks, side by side
    # An unfinished decision is refused with a reason.
    response = client.post(f"/grading/submissions/{sub.id}/moderate", data={"decision": "revise"})
    assert response.status_code == 422 and "the moderator&#39;s grade is final" in response.get_data(
        as_text=True
    )
    clock.freeze(T0 + rows.days(3))
    response = client.post(
        f"/grading/submissions/{sub.id}/moderate",
        data=form(a, ["sound", "weak", "sound"], "revise", "Moderated."),
    )
    assert response.status_code == 302
    decided = moderation.marking_of(sub.id)
    assert (decided.state, decided.decided_by_id, decided.decided_at) == (
        "moderated",
        course.moderator.id,
        T0 + rows.days(3),
    )
    # The first marker's grade can no longer be changed; the moderator's decision is what is released.
    with pytest.raises(DomainError, match="A moderator decided this grade"):
        operations.save_grade(course.first, reload(sub), levels_of(a, ["excellent"] * 3), {}, "", "pass", T0)
    db.session.rollback()
    grade = operations.release_grade(course.first, reload(sub), T0 + rows.days(3))
    assert (reload(sub).state, grade.points, grade.decision, grade.grader_id) == (
        "returned",
        5,
        "revise",
        course.moderator.id,
    )
    # Every mark stays, with who and when.
    marks = {m.kind: m for m in db.session.execute(sa.select(Mark)).scalars()}
    assert (marks["first"].marker_id, marks["first"].points, marks["first"].decision) == (
        course.first.id,
        6,
        "pass",
    )
    assert (marks["second"].marker_id, marks["second"].points) == (course.second.id, 3)
    assert (marks["moderation"].marker_id, marks["moderation"].points) == (course.moderator.id, 5)
    history = db.session.execute(
        sa.select(GradeChange.action, GradeChange.changed_by_id).order_by(GradeChange.id)
    ).all()
    assert history == [
        ("saved", course.first.id),
        ("saved", course.moderator.id),
        ("released", course.first.id),
    ]


# ---- agreement per marker and per criterion ----------------------------------------------------------------

# Criterion 1's level pairs (first, second) over ten versions, as positions; the first five graded first by one
# marker, the last five by another; the second marker is the same for all ten.
PAIRS_1 = [(0, 0)] * 4 + [(0, 1), (1, 0)] + [(1, 1)] * 2 + [(1, 2), (2, 2)]


def test_kappa_per_marker_and_per_criterion_matches_the_hand_computed_values(app, client, login, make_user):
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track, criteria=3, no_missing=False)
    assignment.second_marking = 1.0
    assignment.moderation_points = 9  # keep every pair out of moderation: the report reads them either way
    db.session.commit()
    first_a = make_user(Role.INSTRUCTOR, full_name="Ada First")
    first_b = make_user(Role.INSTRUCTOR, full_name="Bea First")
    second = make_user(Role.INSTRUCTOR, full_name="Cy Second")
    for n, (one, two) in enumerate(PAIRS_1):
        learner = make_user(Role.STUDENT)
        rows.enroll(learner, track, T0)
        submission = rows.hand_in(learner, assignment, now=T0)
        grader = first_a if n < 5 else first_b
        # Criterion 2: "sound" from everyone (kappa undefined); criterion 3: the first always "weak", the second
        # alternating "missing" / "weak" (agreement no better than chance: kappa 0).
        firsts = levels_of(assignment, [NAMES[one], "sound", "weak"])
        seconds = levels_of(assignment, [NAMES[two], "sound", "missing" if n % 2 else "weak"])
        operations.save_grade(grader, submission, firsts, {}, "", "revise", T0)
        operations.save_second_mark(second, reload(submission), seconds, {}, "", "revise", T0)

    report = operations.agreement_report(track)
    c1, c2, c3 = (c.id for c in assignment.active_criteria)
    assert report.double_marked == 10
    overall = report.by_criterion[c1]
    # By hand (tests/test_marking_agreement.py): p_o = 0.7, p_e = 0.39, kappa = 31/61; quadratic kappa = 38/53.
    assert overall.n == 10
    assert overall.plain.kappa == pytest.approx(31 / 61) and overall.weighted.kappa == pytest.approx(38 / 53)
    assert report.by_criterion[c2].plain.kappa is None and report.by_criterion[c2].n == 10
    assert report.by_criterion[c3].plain.kappa == pytest.approx(0.0)
    # Ada's five: (0,0) x4 and (0,1): p_o = 0.8, p_e = (5*4)/25 = 0.8, kappa = 0.
    ada = report.by_marker[(first_a.id, c1)]
    assert ada.n == 5 and ada.plain.kappa == pytest.approx(0.0)
    # Bea's five: (1,0), (1,1) x2, (1,2), (2,2): p_o = 0.6; rows 4, 1; columns 1, 2, 2; p_e = (4*2 + 1*2)/25 = 0.4;
    # kappa = 0.2 / 0.6 = 1/3. Quadratic: seen (1 + 1)/5 = 0.4; by chance (4*1 + 4*2 + 1*1*4 + 1*2)/25 = 0.72;
    # kappa_w = 1 - 0.4/0.72 = 4/9.
    bea = report.by_marker[(first_b.id, c1)]
    assert (
        bea.n == 5 and bea.plain.kappa == pytest.approx(1 / 3) and bea.weighted.kappa == pytest.approx(4 / 9)
    )
    # Cy second-marked all ten: the same as the whole criterion (kappa does not depend on who is "first").
    cy = report.by_marker[(second.id, c1)]
    assert cy.n == 10 and cy.plain.kappa == pytest.approx(31 / 61)
    assert [u.full_name for u in report.markers] == ["Ada First", "Bea First", "Cy Second"]

    login(client, first_a)
    page = client.get(f"/grading/tracks/{track.id}/agreement").get_data(as_text=True)
    assert "κ = 0.51, κw = 0.72" in page and "n = 10" in page
    assert "κ = 0.33, κw = 0.44" in page
    assert "κ undefined" in page and "one and the same level every time" in page


def test_an_accepted_regrade_reopens_a_moderated_grade_for_its_marker(course, student):
    a, sub = course.assignment, course.submission
    operations.save_grade(course.first, sub, levels_of(a, ["sound"] * 3), {}, "", "pass", T0)
    operations.save_second_mark(course.second, reload(sub), levels_of(a, ["weak"] * 3), {}, "", "revise", T0)
    operations.decide(course.moderator, reload(sub), levels_of(a, ["sound", "weak", "sound"]), {}, "", "revise", T0)
    operations.release_grade(course.moderator, reload(sub), T0)
    request = operations.request_regrade(student, reload(sub), "Please look again at the research.", T0)
    operations.answer_regrade(course.first, request, True, "Reopened.", T0)
    # The regrade is its own review: the first marker may change the grade and release it again.
    grade = operations.save_grade(course.first, reload(sub), levels_of(a, ["sound"] * 3), {}, "", "pass", T0)
    assert grade.points == 6 and moderation.marking_of(sub.id).state == "moderated"
    assert operations.release_grade(course.first, reload(sub), T0).release_count == 2

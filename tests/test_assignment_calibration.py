"""Calibration on exemplars before real grading (and its waiver), and the exemplar files: loaded, checked against
the rubric, with the second-marking settings of the assignment table."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from lms import PROJECT_ROOT, clock
from lms.accounts.models import Role
from lms.assignments import exemplars, loader, operations
from lms.assignments.marking_models import CalibrationWaiver, Exemplar, Mark
from lms.assignments.models import Assignment
from lms.content import ContentSet, check_content, sync_content
from lms.extensions import db
from tests.fixtures.files import rows, samples

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
COURSES, QUIZZES = PROJECT_ROOT / "courses", PROJECT_ROOT / "quizzes"
STRATEGIST = COURSES / "social-media-strategist"


@pytest.fixture
def course(app, student, instructor):
    clock.freeze(T0)
    track = rows.make_track()
    assignment = rows.make_assignment(track, criteria=2)
    sound = rows.make_exemplar(assignment, "good-one", ["sound", "sound"], position=1)
    weak = rows.make_exemplar(assignment, "thin-one", ["weak", "weak"], position=2)
    rows.enroll(student, track, T0)
    submission = rows.hand_in(student, assignment, samples.pdf())
    return SimpleNamespace(track=track, assignment=assignment, exemplars=[sound, weak], submission=submission)


def levels_form(assignment, names: list[str]) -> dict[str, str]:
    return {f"level_{c.id}": n for c, n in zip(assignment.active_criteria, names, strict=True)}


def test_a_new_marker_grades_the_exemplars_before_the_real_queue_opens(client, login, course, instructor):
    login(client, instructor)
    desk = f"/grading/submissions/{course.submission.id}"
    calibration = f"/grading/tracks/{course.track.id}/calibration"
    for url in (desk, desk + "/second-mark", desk + "/moderate"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].endswith(calibration), url
    page = client.get(calibration).get_data(as_text=True)
    assert "data-calibration-needed" in page and "Exemplar good-one" in page and "Not graded yet" in page
    # Grading for real is refused too, not only shown.
    client.post(desk, data={"overall_comment": "Started."})
    assert course.submission.grade is None

    good, thin = course.exemplars
    response = client.post(
        f"/grading/exemplars/{good.id}", data=levels_form(course.assignment, ["sound", ""])
    )
    assert response.status_code == 422
    assert "Choose a level for every criterion (still open: Market research)" in response.get_data(
        as_text=True
    )
    clock.freeze(T0 + rows.days(1))
    response = client.post(
        f"/grading/exemplars/{good.id}", data=levels_form(course.assignment, ["sound", "excellent"])
    )
    assert response.status_code == 302
    result = client.get(f"/grading/exemplars/{good.id}").get_data(as_text=True)
    assert "Agrees" in result and "1 level" in result and "The goal is clear; the research thin." in result
    assert client.get(desk).status_code == 302  # one exemplar is not enough

    client.post(f"/grading/exemplars/{thin.id}", data=levels_form(course.assignment, ["weak", "weak"]))
    assert client.get(desk).status_code == 200
    assert "data-calibration-done" in client.get(calibration).get_data(as_text=True)
    kept = (
        db.session.execute(sa.select(Mark).where(Mark.kind == "calibration").order_by(Mark.id))
        .scalars()
        .all()
    )
    assert [(m.exemplar_id, m.marker_id, m.saved_at) for m in kept] == [
        (good.id, instructor.id, T0 + rows.days(1)),
        (thin.id, instructor.id, T0 + rows.days(1)),
    ]
    # Agreement with the reference, per criterion, over the two exemplars (yours, reference) as level positions:
    # Goal and purpose (2, 2), (1, 1): kappa 1. Market research (3, 2), (1, 1): p_o = 1/2; only "weak" is used by
    # both (once each), so p_e = (1*1)/4 = 1/4, and kappa = (1/2 - 1/4) / (3/4) = 1/3.
    agreement = {
        title: plain for title, plain, _ in operations.calibration_agreement(instructor, course.track.id)
    }
    assert agreement["Goal and purpose"].kappa == pytest.approx(1.0)
    assert agreement["Market research"].kappa == pytest.approx(1 / 3) and agreement["Market research"].n == 2


def test_an_admin_can_waive_calibration_for_a_marker(client, login, course, admin, make_user, instructor):
    external = make_user(Role.INSTRUCTOR, full_name="Erin Examiner")
    waive = f"/grading/tracks/{course.track.id}/calibration/waive"
    login(client, instructor)
    assert client.post(waive, data={"user": external.id, "reason": "Examiner."}).status_code == 403

    login(client, admin)
    client.post(waive, data={"user": external.id, "reason": "  "})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalibrationWaiver)) == 0
    student_id = course.submission.user_id
    client.post(waive, data={"user": student_id, "reason": "A student."})
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CalibrationWaiver)) == 0
    response = client.post(
        waive, data={"user": external.id, "reason": "External examiner for this certificate."}
    )
    assert response.status_code == 302
    waiver = db.session.execute(sa.select(CalibrationWaiver)).scalar_one()
    assert (waiver.user_id, waiver.waived_by_id, waiver.track_id) == (external.id, admin.id, course.track.id)

    login(client, external)
    assert client.get(f"/grading/submissions/{course.submission.id}").status_code == 200
    assert "data-calibration-waived" in client.get(f"/grading/tracks/{course.track.id}/calibration").get_data(
        as_text=True
    )
    login(client, instructor)  # the waiver is for one marker only
    assert client.get(f"/grading/submissions/{course.submission.id}").status_code == 302


def test_a_track_without_exemplars_asks_for_no_calibration(app, instructor):
    track = rows.make_track("plain", "Plain")
    rows.make_assignment(track)
    assert operations.needs_calibration(instructor, track.id) is False


# ---- the files ---------------------------------------------------------------------------------------------


def test_the_real_tracks_have_exemplars_that_match_their_rubrics(app):
    content = check_content(COURSES, QUIZZES)
    assert content.problems == []
    found = {e.key: e for e in content.parsed["exemplars"]}
    assert len([k for k in found if k.startswith("social-media-strategist/")]) >= 2
    assert len([k for k in found if k.startswith("social-media-manager/")]) >= 2
    assert content.parsed["assignments"]["social-media-strategist"].second_marking == 0.2
    changes = sync_content(COURSES, QUIZZES)
    assert {c.action for c in changes if c.kind == "exemplar"} == {"created"}
    handbook = db.session.execute(sa.select(Assignment).where(Assignment.slug == "handbook")).scalar_one()
    assert (handbook.second_marking, handbook.moderation_points, handbook.moderation_levels) == (0.2, 3, 1)
    bakery = db.session.execute(sa.select(Exemplar).where(Exemplar.slug == "corner-bakery")).scalar_one()
    assert bakery.reference["budget"] == "missing" and "<h1>" in bakery.body_html
    assert {c.action for c in sync_content(COURSES, QUIZZES)} == {"unchanged"}


def _checked(tmp_path: Path, files: dict[str, str], toml_old: str = "", toml_new: str = "") -> ContentSet:
    folder = tmp_path / "courses" / "social-media-strategist"
    (folder / "exemplars").mkdir(parents=True)
    text = (STRATEGIST / "track.toml").read_text(encoding="utf-8").replace(toml_old, toml_new, 1)
    (folder / "track.toml").write_text(text, encoding="utf-8")
    (folder / "assignment.md").write_text((STRATEGIST / "assignment.md").read_text(encoding="utf-8"))
    for name, body in files.items():
        (folder / "exemplars" / name).write_text(body, encoding="utf-8")
    content = ContentSet(courses_dir=tmp_path / "courses", quizzes_dir=tmp_path / "quizzes")
    spec = loader.check_track_assignment(
        content, "social-media-strategist", folder / "track.toml", tomllib.loads(text)
    )
    content.parsed["courses"] = {
        "social-media-strategist": SimpleNamespace(
            slug="social-media-strategist", path=str(folder / "track.toml")
        )
    }
    content.parsed["assignments"] = {"social-media-strategist": spec} if spec else {}
    exemplars.check_exemplars(content)
    return content


def test_exemplar_problems_are_reported_with_file_and_line(tmp_path):
    good = (STRATEGIST / "exemplars" / "corner-bakery.md").read_text(encoding="utf-8")
    content = _checked(
        tmp_path,
        {
            "ok.md": good,
            "bad-level.md": good.replace('budget = "missing"', 'budget = "superb"'),
            "extra.md": good.replace('roi = "weak"', 'roi = "weak"\ntone = "sound"'),
            "short.md": good.replace('roi = "weak"\n', ""),
            "nothing.md": "Just text.",
        },
    )
    messages = sorted(f"{p.path.rsplit('/', 1)[1]}:{p.line}: {p.message}" for p in content.problems)
    assert messages == [
        "bad-level.md:15: budget = 'superb' is not one of its levels (missing, weak, sound, excellent)",
        "extra.md:18: 'tone' is not a criterion of the rubric (known: goal-and-purpose, market-research, "
        "swot-analysis, strategy, programs, actions, social-presence, resources, budget, reporting, roi)",
        'nothing.md:1: no front matter: an exemplar starts with a "+++" line, then title, order and [levels], '
        'then another "+++" line',
        "short.md:6: [levels] gives no reference level for the criterion 'roi'",
    ]
    assert [e.slug for e in content.parsed["exemplars"]] == ["ok"]


@pytest.mark.parametrize(
    ("old", "new", "message", "line"),
    [
        (
            "second_marking = 0.2",
            "second_marking = 1.5",
            "must be the share of versions a second marker grades",
            58,
        ),
        ("second_marking = 0.2", 'second_marking = "20%"', "second_marking must be the share", 58),
        (
            "moderation_points = 3",
            "moderation_points = 1.5",
            "must be a whole number of points on the total",
            59,
        ),
        (
            "moderation_levels = 1",
            "moderation_levels = -1",
            "must be a whole number of levels on one criterion",
            60,
        ),
    ],
)
def test_second_marking_settings_are_checked(tmp_path, old, new, message, line):
    content = _checked(tmp_path, {}, old, new)
    assert len(content.problems) == 1 and message in content.problems[0].message
    assert content.problems[0].line == line

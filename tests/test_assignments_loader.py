"""The [assignment] table of track.toml: every problem reported with file and line; sync is idempotent."""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms import PROJECT_ROOT
from lms.assignments import loader
from lms.assignments.models import Assignment, Criterion, CriterionLevel
from lms.content import ContentSet, check_content, sync_content
from lms.extensions import db
from tests.fixtures.files import rows

COURSES = PROJECT_ROOT / "courses"
QUIZZES = PROJECT_ROOT / "quizzes"
STRATEGIST = COURSES / "social-media-strategist"
TOML = "courses/social-media-strategist/track.toml"


def test_the_real_tracks_define_valid_assignments(app):
    content = check_content(COURSES, QUIZZES)
    assert content.problems == []
    found = content.parsed["assignments"]
    handbook = found["social-media-strategist"]
    playbook = found["social-media-manager"]
    assert (handbook.slug, len(handbook.criteria), handbook.blind_marking) == ("handbook", 11, True)
    assert [c.title for c in handbook.criteria][:3] == [
        "Goal and purpose",
        "Market research",
        "SWOT analysis",
    ]
    assert [level.name for level in handbook.criteria[0].levels] == ["missing", "weak", "sound", "excellent"]
    assert (playbook.slug, playbook.blind_marking, playbook.cutoff_days) == ("playbook", True, 7)


def check_modified(tmp_path: Path, old: str, new: str, brief: str | None = None) -> tuple[list, int]:
    """Check a copy of the strategist track.toml with `old` replaced by `new`; return the problems and the line
    where `new` starts."""
    folder = tmp_path / "courses" / "social-media-strategist"
    folder.mkdir(parents=True)
    text = (STRATEGIST / "track.toml").read_text(encoding="utf-8")
    assert old in text, old
    changed = text.replace(old, new, 1)
    (folder / "track.toml").write_text(changed, encoding="utf-8")
    (folder / "assignment.md").write_text(
        brief if brief is not None else (STRATEGIST / "assignment.md").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    content = ContentSet(courses_dir=tmp_path / "courses", quizzes_dir=tmp_path / "quizzes")
    raw = tomllib.loads(changed)
    spec = loader.check_track_assignment(content, "social-media-strategist", folder / "track.toml", raw)
    assert (spec is None) == bool(content.problems)
    line = text[: text.index(old)].count("\n") + 1  # where the replacement starts
    return content.problems, line


CRITERION_2 = 'slug = "market-research"'
LEVEL_WEAK = '{ name = "weak",      points = 1,'
ROI_BLOCK_START = '[[assignment.criteria]]\nslug = "roi"'


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "due_days = 21",
            "due_days = 0",
            "due_days must be a whole number of days after enrolment, greater than 0",
        ),
        ("cutoff_days = 14", "cutoff_days = -1", "cutoff_days must be a whole number of days"),
        ('formats = ["pdf",', 'formats = ["exe", "pdf",', "unknown format(s) 'exe'"),
        (
            "max_size_mb = 25",
            "max_size_mb = 0",
            "max_size_mb must be a whole number of megabytes greater than 0",
        ),
        ("max_size_mb = 25", "max_size_mb = 500", "the site accepts at most 25 MB per upload"),
        ("pass_percent = 60", "pass_percent = 160", "pass_percent must be a whole number from 0 to 100"),
        ("blind_marking = true", 'blind_marking = "yes"', "blind_marking must be true or false"),
        ('brief = "assignment.md"', 'brief = "missing.md"', "the brief file 'missing.md' does not exist"),
        (
            'brief = "assignment.md"',
            'brief = "../../README.md"',
            "must be a .md file inside the track's folder",
        ),
        ('slug = "handbook"', 'slug = "Handbook!"', "slug must be lower case letters, digits and hyphens"),
        ('slug = "handbook"', 'slug = "essay"', "[completion] requires assignment 'handbook'"),
        (
            'title = "Social Media Strategy Handbook"',
            'title = "Social Media Strategy Handbook"\ndue_dayz = 3',
            "unknown key 'due_dayz' in [assignment]",
        ),
        (
            CRITERION_2,
            'slug = "goal-and-purpose"',
            "the slug 'goal-and-purpose' is used by another criterion",
        ),
        (
            'title = "Market research"',
            'title = "Budget"',
            "criterion 2 ('Budget') does not match section 2 of the brief ('Market research')",
        ),
        (LEVEL_WEAK, '{ name = "weak",      points = 0,', "points must increase"),
        (LEVEL_WEAK, '{ name = "missing",   points = 1,', "the name 'missing' is used twice"),
        (LEVEL_WEAK, '{ name = "weak",      points = -1,', "points must be a whole number, 0 or more"),
        (
            'levels = [\n  { name = "missing",   points = 0, descriptor = "No business goal',
            'levels = [\n  { name = "missing",   points = 0, descriptor = "", oops = "No business goal',
            "needs a descriptor",
        ),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None,
)
def test_each_problem_is_reported_with_its_file_and_line(app, tmp_path, old, new, message):
    problems, line = check_modified(tmp_path, old, new)
    matching = [p for p in problems if message in p.message]
    assert matching, [str(p) for p in problems]
    problem = matching[0]
    assert problem.path == TOML
    last_line = line + new.count("\n")
    assert line <= problem.line <= last_line, (str(problem), line)


def test_the_handbook_needs_one_criterion_per_section_of_the_brief(app, tmp_path):
    text = (STRATEGIST / "track.toml").read_text(encoding="utf-8")
    roi = text[text.index(ROI_BLOCK_START) :]
    problems, _ = check_modified(tmp_path, roi, "")
    assert [p.message for p in problems] == [
        "the brief assignment.md lists 11 sections but the rubric has 10 criteria: give each section one criterion"
    ]


def test_a_missing_rubric_is_reported(app, tmp_path):
    text = (STRATEGIST / "track.toml").read_text(encoding="utf-8")
    rubric = text[text.index("[[assignment.criteria]]") :]
    problems, _ = check_modified(tmp_path, rubric, "")
    assert any("needs a rubric" in p.message for p in problems)


def test_a_track_without_an_assignment_is_fine_unless_completion_names_one(app, tmp_path):
    text = (STRATEGIST / "track.toml").read_text(encoding="utf-8")
    table = text[text.index("[assignment]") :]
    problems, _ = check_modified(tmp_path, table, "")
    assert [p.message for p in problems] == [
        "[completion] requires assignment 'handbook' but the track has no [assignment] table"
    ]
    without_either = text.replace(table, "").replace('assignment = "handbook"\n', "")
    content = ContentSet(courses_dir=tmp_path / "courses", quizzes_dir=tmp_path / "quizzes")
    path = tmp_path / "courses" / "social-media-strategist" / "track.toml"
    path.write_text(without_either, encoding="utf-8")
    spec = loader.check_track_assignment(
        content, "social-media-strategist", path, tomllib.loads(without_either)
    )
    assert spec is None and content.problems == []


# ---- sync --------------------------------------------------------------------------------------------------


def checked(tmp_path: Path, old: str = "", new: str = "", brief: str | None = None) -> ContentSet:
    folder = tmp_path / "courses" / "social-media-strategist"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    text = (STRATEGIST / "track.toml").read_text(encoding="utf-8")
    text = text.replace(old, new, 1) if old else text
    (folder / "track.toml").write_text(text, encoding="utf-8")
    (folder / "assignment.md").write_text(
        brief if brief is not None else (STRATEGIST / "assignment.md").read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    content = ContentSet(courses_dir=tmp_path / "courses", quizzes_dir=tmp_path / "quizzes")
    spec = loader.check_track_assignment(
        content, "social-media-strategist", folder / "track.toml", tomllib.loads(text)
    )
    assert content.problems == []
    content.parsed["assignments"] = {"social-media-strategist": spec} if spec else {}
    return content


def sync(content: ContentSet) -> list[str]:
    changes = loader.sync_assignments(content)
    db.session.commit()
    return [f"{c.action} {c.key}" for c in changes]


def test_sync_creates_then_leaves_unchanged_then_updates_in_place(app, tmp_path):
    rows.make_track("social-media-strategist")
    assert sync(checked(tmp_path)) == ["created social-media-strategist/handbook"]
    assignment = db.session.execute(sa.select(Assignment)).scalar_one()
    assert (assignment.version, assignment.due_days, assignment.cutoff_days, assignment.max_size_mb) == (
        1,
        21,
        14,
        25,
    )
    assert len(assignment.active_criteria) == 11
    level_ids = [level.id for level in assignment.criteria[0].levels]
    assert "<h2>Choose your organization</h2>" in assignment.brief_html

    assert sync(checked(tmp_path)) == ["unchanged social-media-strategist/handbook"]
    assert sync(checked(tmp_path, "No business goal is stated", "No goal at all is stated")) == [
        "updated social-media-strategist/handbook"
    ]
    db.session.expire_all()
    assignment = db.session.execute(sa.select(Assignment)).scalar_one()
    assert assignment.version == 2
    assert [level.id for level in assignment.criteria[0].levels] == level_ids
    assert assignment.criteria[0].levels[0].descriptor.startswith("No goal at all is stated")


def test_sync_retires_removed_criteria_and_assignments_but_keeps_their_rows(app, tmp_path):
    rows.make_track("social-media-strategist")
    sync(checked(tmp_path))
    brief = (
        (STRATEGIST / "assignment.md")
        .read_text(encoding="utf-8")
        .replace("11. **ROI**", "The last part: ROI")
    )
    text = (STRATEGIST / "track.toml").read_text(encoding="utf-8")
    roi = text[text.index(ROI_BLOCK_START) :]
    assert sync(checked(tmp_path, roi, "", brief=brief)) == ["updated social-media-strategist/handbook"]
    roi_row = db.session.execute(sa.select(Criterion).where(Criterion.slug == "roi")).scalar_one()
    assert roi_row.retired_at is not None
    assert len(db.session.execute(sa.select(Assignment)).scalar_one().active_criteria) == 10

    empty = ContentSet(courses_dir=tmp_path / "courses", quizzes_dir=tmp_path / "quizzes")
    empty.parsed["assignments"] = {}
    assert sync(empty) == ["retired social-media-strategist/handbook"]
    assert db.session.execute(sa.select(Assignment.retired_at)).scalar_one() is not None
    assert db.session.execute(sa.select(sa.func.count()).select_from(CriterionLevel)).scalar_one() == 44


def test_the_brief_is_rendered_once_and_sanitized(app, tmp_path):
    rows.make_track("social-media-strategist")
    brief = (STRATEGIST / "assignment.md").read_text(encoding="utf-8")
    hostile = (
        brief
        + '\n\n<script>alert(1)</script>\n\n[click](javascript:alert(2)) <img src=x onerror="alert(3)">\n'
    )
    sync(checked(tmp_path, brief=hostile))
    html = db.session.execute(sa.select(Assignment.brief_html)).scalar_one()
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html
    assert "<strong>Goal and purpose</strong>" in html


def test_sync_content_loads_both_tracks_assignments_and_is_idempotent(app):
    changes = sync_content(COURSES, QUIZZES)
    mine = sorted(f"{c.action} {c.key}" for c in changes if c.kind == "assignment")
    assert mine == ["created social-media-manager/playbook", "created social-media-strategist/handbook"]
    again = [c for c in sync_content(COURSES, QUIZZES) if c.kind == "assignment"]
    assert {c.action for c in again} == {"unchanged"}
    playbook = db.session.execute(sa.select(Assignment).where(Assignment.slug == "playbook")).scalar_one()
    assert playbook.blind_marking is True and playbook.track.slug == "social-media-manager"

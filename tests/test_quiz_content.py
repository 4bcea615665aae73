"""quizzes/*.toml: every problem reported at once with file and line; sync idempotent and versioned."""

from __future__ import annotations

import tomllib

import pytest
import sqlalchemy as sa

from lms import PROJECT_ROOT
from lms.content import ContentSet
from lms.courses.spec import ModuleSpec, TrackSpec
from lms.extensions import db
from lms.quizzes import loader, operations
from lms.quizzes.models import Quiz, QuizVersion
from tests.test_quiz_support import check_files, enrol, load_quizzes, make_track, quiz_toml, track_spec

BROKEN = """\
title = ""
track = "test-track"
module = "no-such-module"
kind = "module"
time_limit_minutes = 0
attempts_allowed = -1
pass_percent = 120
grading = "best"
draw = 9
review = "everything"
on_expiry = "grace"
grace_seconds = 0
time_limt = 5

[[questions]]
id = "one"
type = "single"
prompt = "Two right answers?"

[[questions.choices]]
text = "A"
correct = true

[[questions.choices]]
text = "B"
correct = true

[[questions]]
id = "one"
type = "multiple"
prompt = "No right answer, no rule"

[[questions.choices]]
text = "A"
correct = false

[[questions.choices]]
text = "B"
correct = false

[[questions]]
id = "three"
type = "essay"
prompt = "Unknown type"

[[questions]]
id = "four"
type = "short"
prompt = "Nothing to accept"

[[questions]]
id = "five"
type = "true_false"
points = -1
prompt = "No answer"
"""


def problems_of(content: ContentSet) -> list[tuple[int, str]]:
    return sorted((p.line, p.message) for p in content.problems)


def test_every_problem_is_reported_at_once_with_its_line(tmp_path):
    content = check_files(tmp_path / "quizzes", {"broken": BROKEN})
    found = problems_of(content)
    assert all(p.path.endswith("quizzes/broken.toml") for p in content.problems)
    expected_fragments = [
        (1, "title is missing"),
        (3, "unknown module 'no-such-module'"),
        (5, "time_limit_minutes must be a number greater than 0"),
        (6, "attempts_allowed must be a whole number of at least 0"),
        (7, "pass_percent must be above 0 and at most 100"),
        (8, 'grading must be one of "highest", "last"'),
        (9, "draw is 9 but the pool has only 5 question(s)"),
        (10, "review must be one of"),
        (12, 'on_expiry = "grace" needs grace_seconds above 0'),
        (13, "unknown key 'time_limt'"),
        (15, "exactly one correct choice, it has 2"),
        (29, "duplicate question id 'one' (first used on line 16)"),
        (28, "a multiple choice question needs a correct choice"),
        (28, "partial_credit must be one of"),  # a missing key: the line of its [[questions]]
        (43, "type must be one of"),
        (46, "a short answer question needs accept"),
        (54, "points must be a number above 0"),
        (51, "a true_false question needs answer = true or false"),
    ]
    for line, fragment in expected_fragments:
        assert any(ln == line and fragment in message for ln, message in found), (line, fragment, found)
    assert len(found) == len(expected_fragments)


def test_toml_syntax_errors_name_the_line(tmp_path):
    content = check_files(tmp_path / "quizzes", {"bad-syntax": 'title = "x"\ntrack = \n'})
    assert len(content.problems) == 1
    assert content.problems[0].line == 2
    assert "not valid TOML" in content.problems[0].message


@pytest.mark.parametrize(
    ("settings", "line_key", "fragment"),
    [
        ({"track": "nowhere"}, "track", "unknown track 'nowhere'"),
        ({"kind": "final"}, "module", "a final exam belongs to the track: remove module"),
        ({"module": None}, None, "module is missing"),
        ({"time_limit_minutes": -5}, "time_limit_minutes", "greater than 0"),
        ({"draw": 0}, "draw", "draw must be a whole number of at least 1"),
        ({"review_after": "close"}, "review_after", 'review_after = "close" needs a closes_at time'),
        ({"closes_at": "2026-01-01T09:00:00"}, "closes_at", "needs a time zone"),
        (
            {"opens_at": "2026-02-01T09:00:00Z", "closes_at": "2026-01-01T09:00:00Z"},
            "closes_at",
            "after opens_at",
        ),
        ({"shuffle_questions": "yes"}, "shuffle_questions", "must be true or false"),
    ],
)
def test_single_problems(tmp_path, settings, line_key, fragment):
    text = quiz_toml(**settings)
    content = check_files(tmp_path / "quizzes", {"one-problem": text})
    assert len(content.problems) == 1, [str(p) for p in content.problems]
    problem = content.problems[0]
    assert fragment in problem.message
    if line_key:
        expected_line = next(i for i, ln in enumerate(text.splitlines(), 1) if ln.startswith(f"{line_key} ="))
        assert problem.line == expected_line


def test_track_completion_must_name_existing_quizzes(tmp_path):
    tracks = [track_spec(quizzes=["basics-quiz", "missing-final"])]
    content = check_files(tmp_path / "quizzes", {"basics-quiz": quiz_toml()}, tracks)
    assert [(p.line, p.message) for p in content.problems] == [
        (7, "completion names quiz 'missing-final', but quizzes/missing-final.toml is missing")
    ]


def test_the_real_quizzes_are_valid_and_meet_the_issue(tmp_path):
    """The quizzes we ship check clean against the tracks in courses/, and meet the size rules."""
    tracks = []
    for path in sorted((PROJECT_ROOT / "courses").glob("*/track.toml")):
        data = tomllib.loads(path.read_text())
        tracks.append(
            TrackSpec(
                slug=path.parent.name, path=path, title=data["title"], summary="", certifies="", validity_months=24,
                unlock="in_order", program_weeks=None, completion=data.get("completion", {}),
                modules=[ModuleSpec(m["slug"], m["title"], "", None, i) for i, m in enumerate(data["modules"])],
            )
        )  # fmt: skip
    content = ContentSet(courses_dir=PROJECT_ROOT / "courses", quizzes_dir=PROJECT_ROOT / "quizzes")
    content.parsed["courses"] = {t.slug: t for t in tracks}
    loader.check(content)
    assert [str(p) for p in content.problems] == []
    specs = content.parsed["quizzes"]
    for track in tracks:
        finals = [s for s in specs.values() if s.track == track.slug and s.kind == "final"]
        assert len(finals) == 1
        assert finals[0].time_limit_seconds == 30 * 60
        assert finals[0].draw == 20
        assert len(finals[0].questions) >= 35
        # Every item of the final names its module, and the blueprint covers every module of the track.
        assert all(q.get("module") for q in finals[0].questions)
        assert {s.module for s in finals[0].blueprint} == {m.slug for m in track.modules}
        recertifications = [s for s in specs.values() if s.track == track.slug and s.kind == "recertification"]
        assert [(s.bank, bool(s.blueprint)) for s in recertifications] == [(finals[0].slug, True)]
        for module in track.modules:
            quizzes = [s for s in specs.values() if s.module == module.slug and s.track == track.slug]
            assert len(quizzes) == 1, module.slug
            assert len(quizzes[0].questions) >= 6


def test_sync_is_idempotent_and_versions_questions(app, tmp_path, student):
    track = make_track()
    folder = tmp_path / "quizzes"
    changes = load_quizzes(folder, {"basics-quiz": quiz_toml()})
    assert [(c.key, c.action) for c in changes] == [("basics-quiz", "created")]
    assert [(c.key, c.action) for c in load_quizzes(folder, {})] == [("basics-quiz", "unchanged")]

    enrol(student, track)
    quiz = db.session.execute(sa.select(Quiz)).scalar_one()
    first = operations.start_attempt(student, quiz)
    operations.save_answer(student, first.id, "roi", "ROI", 1)

    # A settings change updates the quiz but keeps the version.
    load_quizzes(folder, {"basics-quiz": quiz_toml(time_limit_minutes=20)})
    db.session.expire_all()
    assert (quiz.time_limit_seconds, quiz.current_version) == (1200, 1)

    # New questions make version 2; the attempt in progress stays on version 1 and is scored against it.
    load_quizzes(folder, {"basics-quiz": quiz_toml().replace('"ROI"]', '"ROI", "R.O.I."]')})
    db.session.expire_all()
    assert quiz.current_version == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(QuizVersion)) == 2
    done = operations.submit_attempt(student, first.id)
    assert done.version.number == 1
    assert done.results["roi"]["points"] == 1
    assert "R.O.I." not in str(done.version.questions)

    # A removed file retires the quiz (never deletes it or its attempts).
    (folder / "basics-quiz.toml").unlink()
    assert [(c.key, c.action) for c in load_quizzes(folder, {})] == [("basics-quiz", "retired")]
    db.session.expire_all()
    assert quiz.retired_at is not None

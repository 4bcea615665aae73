"""`check` for courses/: every validation error is reported with its file and line; the real content passes."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from lms import PROJECT_ROOT
from lms.courses.loader import toml_key_lines
from tests.fixtures.courses.samples import ALPHA, DEEP, FIRST, SECOND, SOLO, check_tree


def edit(tree: Path, name: str, old: str, new: str) -> None:
    path = tree / name
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} should appear once in {name}"
    path.write_text(text.replace(old, new))


def write(tree: Path, name: str, text: str) -> None:
    path = tree / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def line_of(tree: Path, name: str, needle: str) -> int:
    lines = (tree / name).read_text().split("\n")
    return next(number for number, line in enumerate(lines, 1) if needle in line)


def last_line(tree: Path, name: str) -> int:
    return len((tree / name).read_text().splitlines())


def problems(tree: Path) -> list[tuple[str, int, str]]:
    return [(p.path, p.line, p.message) for p in check_tree(tree).problems]


def short_lesson(title: str = "Short", order: int = 1) -> str:
    return f'+++\ntitle = "{title}"\norder = {order}\nminutes = 5\nsummary = "Short."\n+++\n\nToo short.\n\n## Practice\n\nDo it.\n'


@dataclass(frozen=True)
class Case:
    id: str
    change: Callable[[Path], None]
    file: str
    line: int | Callable[[Path], int]
    message: str


CASES = [
    # track.toml
    Case("toml-syntax-error", lambda t: edit(t, ALPHA, 'unlock = "in_order"', "unlock = in_order"), ALPHA, 5,
         "TOML syntax error"),
    Case("track-missing-title", lambda t: edit(t, ALPHA, 'title = "Alpha Track"\n', ""), ALPHA, 1,
         'missing "title" in track.toml'),
    Case("track-empty-summary", lambda t: edit(t, ALPHA, '"A small track used by the tests."', '""'), ALPHA, 2,
         '"summary" must be non-empty text'),
    Case("track-certifies-not-text", lambda t: edit(t, ALPHA, '"The holder has read every Alpha lesson."', "3"),
         ALPHA, 3, '"certifies" must be non-empty text'),
    Case("track-missing-certifies", lambda t: edit(t, ALPHA, 'certifies = "The holder has read every Alpha lesson."\n',
         ""), ALPHA, 1, 'missing "certifies"'),
    Case("validity-not-a-number", lambda t: edit(t, ALPHA, "validity_months = 12", 'validity_months = "12"'), ALPHA, 4,
         '"validity_months" must be a whole number of at least 1, not "12"'),
    Case("validity-zero", lambda t: edit(t, ALPHA, "validity_months = 12", "validity_months = 0"), ALPHA, 4,
         '"validity_months" must be a whole number'),
    Case("track-missing-validity", lambda t: edit(t, ALPHA, "validity_months = 12\n", ""), ALPHA, 1,
         'missing "validity_months"'),
    Case("unlock-unknown", lambda t: edit(t, ALPHA, 'unlock = "in_order"', 'unlock = "sometimes"'), ALPHA, 5,
         '"unlock" must be "in_order" or "free", not "sometimes"'),
    Case("track-missing-unlock", lambda t: edit(t, ALPHA, 'unlock = "in_order"\n', ""), ALPHA, 1, 'missing "unlock"'),
    Case("program-weeks-not-whole", lambda t: edit(t, ALPHA, "program_weeks = 2", "program_weeks = 2.5"), ALPHA, 6,
         '"program_weeks" must be a whole number'),
    Case("track-unknown-field", lambda t: edit(t, ALPHA, 'title = "Alpha Track"\n', 'title = "Alpha Track"\ncolour = 1\n'),
         ALPHA, 2, 'unknown field "colour"'),
    Case("completion-missing", lambda t: edit(t, ALPHA, '[completion]\nmodules = "all"\nquizzes = ["alpha-final"]\n'
         'assignment = "alpha-brief"\n', ""), ALPHA, 1, "missing the [completion] table"),
    Case("completion-modules-unknown", lambda t: edit(t, ALPHA, 'modules = "all"', 'modules = "some"'), ALPHA, 9,
         '"modules" must be "all", not "some"'),
    Case("completion-quizzes-not-a-list", lambda t: edit(t, ALPHA, 'quizzes = ["alpha-final"]', 'quizzes = "alpha-final"'),
         ALPHA, 10, '"quizzes" must be a list of quiz slugs'),
    Case("modules-missing", lambda t: write(t, "beta/track.toml", (t / "beta/track.toml").read_text().split("[[modules]]")[0]),
         "beta/track.toml", 1, 'missing "modules"'),
    Case("module-missing-title", lambda t: edit(t, ALPHA, 'title = "The basics"\n', ""), ALPHA, 13,
         'missing "title" in module 1'),
    Case("module-summary-not-text", lambda t: edit(t, ALPHA, 'summary = "For those who finished the basics."',
         "summary = 7"), ALPHA, 22, '"summary" must be non-empty text in quotes in module 2'),
    Case("module-bad-slug", lambda t: edit(t, ALPHA, 'slug = "basics"', 'slug = "The Basics"'), ALPHA, 14,
         '"slug" = "The Basics" is not a valid slug'),
    Case("module-duplicate-slug", lambda t: edit(t, ALPHA, 'slug = "advanced"', 'slug = "basics"'), ALPHA, 20,
         'duplicate module slug "basics" (already used on line 14)'),
    Case("module-folder-absent", lambda t: write(t, ALPHA, (t / ALPHA).read_text().replace(
         "[assignment]", '[[modules]]\nslug = "extra"\ntitle = "Extra"\nsummary = "More."\nweek = 2\n\n[assignment]')),
         ALPHA, 26, 'module "extra" is listed but its folder alpha/extra/ does not exist'),
    Case("module-without-lessons", lambda t: shutil.rmtree(t / "beta/only") or (t / "beta/only").mkdir(),
         "beta/track.toml", 10, 'module "only" has no lessons'),
    Case("module-unknown-field", lambda t: edit(t, ALPHA, 'title = "The basics"', 'title = "The basics"\nlevel = 1'),
         ALPHA, 16, 'unknown field "level" in module 1'),
    Case("week-missing", lambda t: edit(t, ALPHA, "week = 1\n", ""), ALPHA, 13, 'missing "week" in module 1'),
    Case("week-beyond-program", lambda t: edit(t, ALPHA, "week = 2", "week = 3"), ALPHA, 23,
         '"week" must be a whole number from 1 to 2, not 3'),
    Case("week-without-program", lambda t: edit(t, "beta/track.toml", 'summary = "Just one."', 'summary = "Just one."\n'
         "week = 1"), "beta/track.toml", 14, '"week" is only used when the track sets "program_weeks"'),
    Case("track-folder-without-toml", lambda t: (t / "gamma").mkdir(), "courses/gamma", 1,
         "this track folder has no track.toml"),
    Case("track-folder-bad-slug", lambda t: (t / "beta").rename(t / "Beta_Track"), "Beta_Track/track.toml", 1,
         'the folder name "Beta_Track" is not a valid track slug'),
    # which files are lessons
    Case("lesson-in-unlisted-folder", lambda t: write(t, "alpha/drafts/idea.md", short_lesson()), "alpha/drafts/idea.md",
         1, "no module lists this lesson"),
    Case("lesson-at-track-root", lambda t: write(t, "alpha/stray.md", short_lesson()), "alpha/stray.md", 1,
         "no module lists this lesson"),
    Case("lesson-duplicate-slug", lambda t: shutil.copy(t / FIRST, t / "alpha/advanced/first-steps.md"), FIRST, 1,
         'duplicate lesson slug "first-steps": courses/alpha/advanced/first-steps.md has the same file name'),
    Case("lesson-duplicate-order", lambda t: edit(t, SECOND, "order = 2", "order = 1"), SECOND, 3,
         "order = 1 is also used by first-steps.md in this module"),
    Case("lesson-bad-slug", lambda t: (t / SOLO).rename(t / "beta/only/Solo_Lesson.md"), "beta/only/Solo_Lesson.md", 1,
         'the file name "Solo_Lesson.md" is not a valid lesson slug'),
    # front matter
    Case("front-matter-missing", lambda t: write(t, SOLO, (t / SOLO).read_text().split("+++", 2)[2]), SOLO, 1,
         "no front matter"),
    Case("front-matter-unclosed", lambda t: edit(t, SOLO, 'summary = "The whole Beta track in one lesson."\n+++',
         'summary = "The whole Beta track in one lesson."\n'), SOLO, 1, "the front matter is never closed"),
    Case("front-matter-syntax-error", lambda t: edit(t, SOLO, "minutes = 8", "minutes = eight"), SOLO, 4,
         "front matter TOML syntax error"),
    Case("lesson-missing-title", lambda t: edit(t, SOLO, 'title = "Solo lesson"\n', ""), SOLO, 1,
         'missing "title" in the front matter'),
    Case("lesson-order-not-a-number", lambda t: edit(t, SOLO, "order = 1", 'order = "1"'), SOLO, 3,
         '"order" must be a whole number of at least 1, not "1"'),
    Case("lesson-missing-order", lambda t: edit(t, SOLO, "order = 1\n", ""), SOLO, 1, 'missing "order"'),
    Case("lesson-minutes-zero", lambda t: edit(t, SOLO, "minutes = 8", "minutes = 0"), SOLO, 4,
         '"minutes" must be a whole number from 1 to 600, not 0'),
    Case("lesson-missing-minutes", lambda t: edit(t, SOLO, "minutes = 8\n", ""), SOLO, 1, 'missing "minutes"'),
    Case("lesson-missing-summary", lambda t: edit(t, SOLO, 'summary = "The whole Beta track in one lesson."\n', ""),
         SOLO, 1, 'missing "summary" in the front matter'),
    Case("lesson-unknown-field", lambda t: edit(t, SOLO, "order = 1\n", 'order = 1\nauthor = "me"\n'), SOLO, 4,
         'unknown field "author" in the front matter'),
    # body
    Case("link-broken-same-module", lambda t: edit(t, FIRST, "(second-steps.md)", "(second-step.md)"), FIRST,
         lambda t: line_of(t, FIRST, "second-step.md"), 'broken link to "second-step.md"'),
    Case("link-broken-other-module", lambda t: edit(t, DEEP, "(../basics/first-steps.md)", "(../basic/first-steps.md)"),
         DEEP, lambda t: line_of(t, DEEP, "../basic/"), 'broken link to "../basic/first-steps.md"'),
    Case("link-to-brief-is-not-a-lesson", lambda t: edit(t, FIRST, "(second-steps.md)", "(../brief.md)"), FIRST,
         lambda t: line_of(t, FIRST, "../brief.md"), 'broken link to "../brief.md"'),
    Case("link-without-md", lambda t: edit(t, FIRST, "(second-steps.md)", "(second-steps)"), FIRST,
         lambda t: line_of(t, FIRST, "(second-steps)"), "link to another lesson by its file"),
    Case("link-javascript", lambda t: edit(t, FIRST, "(second-steps.md)", "(javascript:alert(1))"), FIRST,
         lambda t: line_of(t, FIRST, "javascript:"), "links may only use http, https or mailto"),
    Case("practice-missing", lambda t: edit(t, SOLO, "## Practice", "## Exercise"), SOLO,
         lambda t: last_line(t, SOLO), 'no "## Practice" section'),
    Case("practice-empty", lambda t: write(t, SOLO, (t / SOLO).read_text().split("## Practice")[0] + "## Practice\n\n"
         "## Afterwards\n\nMore.\n"), SOLO, lambda t: line_of(t, SOLO, "## Practice"), 'the "## Practice" section is empty'),
    Case("too-few-words", lambda t: write(t, "beta/only/short.md", short_lesson(order=2)), "beta/only/short.md", 7,
         "only 5 words of text: a lesson needs at least 300"),
    Case("raw-html", lambda t: edit(t, SOLO, "## Practice", '<div onclick="go()">Click</div>\n\n## Practice'), SOLO,
         lambda t: line_of(t, SOLO, "<div"), 'raw HTML (<div onclick="go()">) is not allowed'),
    Case("raw-html-comment", lambda t: edit(t, SOLO, "## Practice", "<!-- hidden -->\n\n## Practice"), SOLO,
         lambda t: line_of(t, SOLO, "<!--"), "raw HTML (<!--) is not allowed"),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_each_problem_is_reported_with_file_and_line(tree: Path, case: Case):
    case.change(tree)
    line = case.line(tree) if callable(case.line) else case.line
    file = case.file if case.file.startswith("courses/") else f"courses/{case.file}"
    found = problems(tree)
    assert any(p[0] == file and p[1] == line and case.message in p[2] for p in found), found


def test_the_valid_tree_passes_and_is_parsed(tree: Path):
    content = check_tree(tree)
    assert content.problems == []
    alpha = content.parsed["courses"]["alpha"]
    assert (alpha.title, alpha.validity_months, alpha.unlock, alpha.program_weeks) == (
        "Alpha Track",
        12,
        "in_order",
        2,
    )
    assert alpha.completion == {"modules": "all", "quizzes": ["alpha-final"], "assignment": "alpha-brief"}
    assert [(m.slug, m.week, m.position) for m in alpha.modules] == [("basics", 1, 0), ("advanced", 2, 1)]
    assert [lesson.slug for lesson in alpha.module("basics").lessons] == ["first-steps", "second-steps"]
    first = alpha.module("basics").lessons[0]
    assert (first.title, first.order, first.minutes, first.module) == ("First steps", 1, 10, "basics")
    assert first.markdown.lstrip().startswith("Good study habits")
    # [assignment] is left whole for the assignments checker, unknown keys and all; quiz slugs are not checked here.
    assert alpha.raw["assignment"]["whatever_the_assignments_checker_reads"] is True
    assert alpha.line_of["modules.1.slug"] == 20
    assert content.parsed["courses"]["beta"].program_weeks is None


def test_every_problem_is_reported_at_once(tree: Path):
    edit(tree, ALPHA, 'title = "Alpha Track"\n', "")
    edit(tree, SOLO, "order = 1", "order = -1")
    edit(tree, FIRST, "(second-steps.md)", "(nowhere.md)")
    found = problems(tree)
    assert sorted((path, line) for path, line, _ in found) == sorted(
        [("courses/alpha/track.toml", 1), (f"courses/{FIRST}", line_of(tree, FIRST, "nowhere.md")),
         (f"courses/{SOLO}", 3)]
    )  # fmt: skip


def test_code_is_not_checked_for_html_or_links(tree: Path):
    edit(
        tree,
        SOLO,
        "## Practice",
        "```html\n<div>[x](nowhere.md)</div>\n```\n\nInline `<b>` is code too.\n\n## Practice",
    )
    assert problems(tree) == []


def test_the_end_of_a_broken_toml_file_is_reported(tree: Path):
    write(tree, ALPHA, (tree / ALPHA).read_text() + "\n[broken\n")
    assert problems(tree)[0][:2] == ("courses/alpha/track.toml", last_line(tree, ALPHA))


def test_key_lines_skip_multi_line_arrays():
    text = 'a = 1\nlevels = [\n  ["x"],\n  { name = "y" },\n]\n[[items]]\nname = "one"\n[[items]]\nname = "two"\n'
    lines = toml_key_lines(text)
    assert lines == {"a": 1, "levels": 2, "items.0": 6, "items.0.name": 7, "items.1": 8, "items.1.name": 9}


def test_the_real_content_passes():
    content = check_tree(PROJECT_ROOT / "courses")
    assert [str(problem) for problem in content.problems] == []
    tracks = content.parsed["courses"]
    assert set(tracks) >= {"social-media-strategist", "social-media-manager"}
    for track in tracks.values():
        assert len(track.modules) >= 6
        assert all(len(module.lessons) >= 2 for module in track.modules)
    assert tracks["social-media-manager"].program_weeks == 3
    assert {module.week for module in tracks["social-media-manager"].modules} == {1, 2, 3}

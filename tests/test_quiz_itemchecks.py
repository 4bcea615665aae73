"""The item-writing checks of `lms check-content`: each one tripped by an item with the cue and quiet on one
without it, as a warning with its file and line; `--strict` makes warnings errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lms import PROJECT_ROOT
from tests.test_quiz_support import check_files, track_spec

HEAD = """title = "{title}"
track = "test-track"
kind = "{kind}"
{module}time_limit_minutes = 10
pass_percent = 60
"""


def quiz(*items: str, kind: str = "module", title: str = "Quiz") -> str:
    module = 'module = "basics"\n' if kind == "module" else ""
    return HEAD.format(title=title, kind=kind, module=module) + "\n".join(items)


def single(qid: str, correct: str, *wrong: str, prompt: str | None = None) -> str:
    text = f'[[questions]]\nid = "{qid}"\ntype = "single"\nprompt = "{prompt or "Stem of " + qid}"\n'
    text += f'[[questions.choices]]\ntext = "{correct}"\ncorrect = true\n'
    return text + "".join(f'[[questions.choices]]\ntext = "{w}"\ncorrect = false\n' for w in wrong)


def multiple(qid: str, correct: list[str], wrong: list[str]) -> str:
    text = f'[[questions]]\nid = "{qid}"\ntype = "multiple"\npartial_credit = "all_or_nothing"\nprompt = "Pick {qid}"\n'
    for options, flag in ((correct, "true"), (wrong, "false")):
        text += "".join(f'[[questions.choices]]\ntext = "{o}"\ncorrect = {flag}\n' for o in options)
    return text


def warnings_of(tmp_path: Path, files: dict[str, str]) -> list[tuple[str, int, str]]:
    content = check_files(tmp_path / "quizzes", files, [track_spec()])
    assert content.problems == [], [str(p) for p in content.problems]
    return [(w.path, w.line, w.message) for w in content.warnings]


def line_of(text: str, fragment: str, after: int = 0) -> int:
    lines = text.splitlines()
    return next(n for n, line in enumerate(lines, 1) if n > after and fragment in line)


def test_a_clean_quiz_has_no_warnings(tmp_path):
    text = quiz(
        single("a", "Red", "Blue", "Gold"),
        single("b", "Plum", "Lime", "Pear"),
        multiple("m", ["One", "Two"], ["Three", "Four"]),
    )
    assert warnings_of(tmp_path, {"basics-quiz": text}) == []


def test_the_correct_option_longest_in_too_many_items_of_a_bank(tmp_path):
    # 1 of 3 (33 %) is fine; 2 of 3 (67 %) is over 35 %. The options stay under 1.5x so only this check speaks.
    fine = quiz(single("a", "Longest!", "Short1", "Short2"), single("b", "Same", "Same", "Also"),
                single("c", "Tiny", "Tiny", "Larger"))  # fmt: skip
    assert warnings_of(tmp_path / "1", {"basics-quiz": fine}) == []
    tripped = quiz(single("a", "Longest!", "Short1", "Short2"), single("b", "Longer!", "Short", "Short"),
                   single("c", "Tiny", "Tiny", "Larger"))  # fmt: skip
    ((path, line, message),) = warnings_of(tmp_path / "2", {"basics-quiz": tripped})
    assert path.endswith("basics-quiz.toml") and line == 1
    assert message.startswith(
        "the correct option is the longest in 2 of 3 single-choice items (67 %, at most 35 %)"
    )


def test_a_correct_option_much_longer_than_its_distractors(tmp_path):
    tripped = quiz(single("a", "A much longer right answer", "No", "Not it"), single("b", "Aa", "Bb", "Cc"),
                   single("c", "Dd", "Ee", "Ff"))  # fmt: skip
    found = warnings_of(tmp_path / "1", {"basics-quiz": tripped})
    assert (
        found[0][1:] == (line_of(tripped, "[[questions]]"),
                         "question 'a': the correct option (26 characters) is more than 1.5x the mean length of its "
                         "distractors (4)")
    )  # fmt: skip
    # 15 characters against a mean of 10 is exactly 1.5x: not more.
    fine = quiz(
        single("a", "x" * 15, "y" * 10, "z" * 10),
        single("b", "Aa", "Bb", "Cc"),
        single("c", "Dd", "Ee", "Ff"),
    )
    assert [w for w in warnings_of(tmp_path / "2", {"basics-quiz": fine}) if "1.5x" in w[2]] == []


@pytest.mark.parametrize("text", ["All of the above", "None of the above", "none of these"])
def test_all_or_none_of_the_above(tmp_path, text):
    tripped = quiz(single("a", "Red", "Blue", text[:4]), multiple("m", ["One", text], ["Two", "Three"]))
    found = warnings_of(tmp_path, {"basics-quiz": tripped})
    choice_line = line_of(tripped, f'text = "{text}"')
    assert [(line, message.split(":")[0]) for _, line, message in found if "avoid" in message] == [
        (choice_line - 1, "question 'm'")  # the line of its [[questions.choices]] table
    ]


def test_the_words_above_elsewhere_do_not_trip_the_check(tmp_path):
    fine = quiz(single("a", "Above all, goals", "Below all, tools", "Beside, platforms"))
    assert not any("avoid" in w[2] for w in warnings_of(tmp_path, {"basics-quiz": fine}))


def test_a_multiple_choice_with_every_option_but_one_correct(tmp_path):
    tripped = quiz(multiple("m", ["One", "Two", "Three"], ["Four"]))
    ((_, line, message),) = warnings_of(tmp_path / "1", {"basics-quiz": tripped})
    assert line == line_of(tripped, "[[questions]]")
    assert message.startswith("question 'm': every option but one is correct")
    fine = quiz(multiple("m", ["One", "Two"], ["Three", "Four"]), multiple("n", ["One"], ["Two"]))
    assert warnings_of(tmp_path / "2", {"basics-quiz": fine}) == []


def test_duplicate_and_near_duplicate_stems_across_quizzes_of_a_track(tmp_path):
    stem = "Which goal should a social media strategy start from"
    first = quiz(single("a", "Red", "Blue", "Gold", prompt=stem))
    near = quiz(single("b", "Red", "Blue", "Gold", prompt=stem.replace("Which", "Which one")), title="Other")
    found = warnings_of(tmp_path / "1", {"basics-quiz": first, "other-quiz": near})
    assert [(Path(p).name, m) for p, _, m in found] == [
        ("other-quiz.toml", "question 'b': its stem duplicates question 'a' in basics-quiz.toml (line 7)")
    ]
    different = quiz(
        single("b", "Red", "Blue", "Gold", prompt="Which platform suits a helpdesk best"), title="O"
    )
    assert warnings_of(tmp_path / "2", {"basics-quiz": first, "other-quiz": different}) == []


def test_module_quizzes_never_share_items_with_the_final(tmp_path):
    stem = "What should a strategy start from"
    module_quiz = quiz(single("a", "Red", "Blue", "Gold", prompt=stem))
    final = quiz(single("f", "Red", "Blue", "Gold", prompt=stem + "?"), kind="final", title="Final")
    found = warnings_of(tmp_path, {"basics-quiz": module_quiz, "test-final": final})
    assert [m for _, _, m in found] == [
        "question 'f': module quizzes never share items with the final; it repeats question 'a' in basics-quiz.toml "
        "(line 7)"
    ]


def test_a_numeric_answer_given_away_by_a_distractor_of_the_same_bank(tmp_path):
    numeric = '[[questions]]\nid = "n"\ntype = "short"\nprompt = "How many?"\nnumber = 12\n'
    tripped = quiz(numeric, single("a", "Level 3", "Level 12", "Level 7"))
    ((_, line, message),) = warnings_of(tmp_path / "1", {"basics-quiz": tripped})
    assert line == line_of(tripped, 'text = "Level 12"') - 1
    assert message == "question 'a': the distractor 'Level 12' gives away the answer of question 'n' (12)"
    # 120 and 1.2 are other numbers; the right option may say 12 (only distractors give it away).
    fine = quiz(numeric, single("a", "Level 12", "Level 120", "Level 1.2"))
    assert warnings_of(tmp_path / "2", {"basics-quiz": fine}) == []


def test_check_content_prints_warnings_and_strict_fails_on_them(app, tmp_path):
    quizzes = tmp_path / "quizzes"
    quizzes.mkdir()
    (quizzes / "basics-quiz.toml").write_text(quiz(multiple("m", ["One", "Two", "Three"], ["Four"])))
    courses = tmp_path / "courses" / "test-track"
    courses.mkdir(parents=True)
    (courses / "track.toml").write_text(
        'title = "T"\nsummary = "S"\ncertifies = "C"\nvalidity_months = 12\nunlock = "free"\n'
        '[completion]\nmodules = "all"\n[[modules]]\nslug = "basics"\ntitle = "Basics"\nsummary = "B"\n'
    )
    (courses / "basics").mkdir()
    real = (
        PROJECT_ROOT
        / "courses"
        / "social-media-strategist"
        / "why-strategies-fail"
        / "strategy-before-tools.md"
    )
    # A real lesson checks clean, once its links to other modules are plain text.
    (courses / "basics" / "one.md").write_text(re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", real.read_text()))
    app.config.update(COURSES_DIR=str(tmp_path / "courses"), QUIZZES_DIR=str(quizzes))
    runner = app.test_cli_runner()
    relaxed = runner.invoke(args=["lms", "check-content"])
    assert relaxed.exit_code == 0, relaxed.output
    assert "quizzes/basics-quiz.toml:7: question 'm': every option but one is correct" in relaxed.output
    assert "Content is valid, with 1 warning(s)" in relaxed.output
    strict = runner.invoke(args=["lms", "check-content", "--strict"])
    assert strict.exit_code == 1
    assert "[error]" in strict.output and "1 problem(s) found" in strict.output

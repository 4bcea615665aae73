"""`lms import-questions` and `lms export-questions` through the CLI: the file written loads with our loader and
passes `lms check-content`; import -> export to GIFT -> import gives the same quiz; an existing file is kept
unless --force; nothing importable or a malformed file exits non-zero with the reason, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lms import PROJECT_ROOT
from lms.quizzes.importing.writing import categories_of
from lms.quizzes.spec import read_quiz_file

BANKS = Path(__file__).parent / "fixtures" / "question_banks"
TRACK = ["--track", "social-media-manager", "--module", "measurement-with-numbers"]


@pytest.fixture
def quizzes(app, tmp_path, monkeypatch) -> Path:
    """A copy of our quiz files, for the app to check the imported one with."""
    target = tmp_path / "quizzes"
    shutil.copytree(PROJECT_ROOT / "quizzes", target)
    monkeypatch.setitem(app.config, "QUIZZES_DIR", str(target))
    monkeypatch.setitem(app.config, "COURSES_DIR", str(PROJECT_ROOT / "courses"))
    return target


def run(app, *args: str):
    return app.test_cli_runner(mix_stderr=False).invoke(args=["lms", *args]) if _mixes() else (
        app.test_cli_runner().invoke(args=["lms", *args])
    )  # fmt: skip


def _mixes() -> bool:
    import inspect

    from click.testing import CliRunner

    return "mix_stderr" in inspect.signature(CliRunner.__init__).parameters


def output(result) -> str:
    return result.output + (result.stderr if result.stderr_bytes is not None else "")


def spec_of(path: Path):
    spec, problems = read_quiz_file(path, {})
    assert spec is not None
    return spec, problems


@pytest.mark.parametrize(("bank", "fmt", "count"), [("social-media-basics.gift", "gift", 10),
                                                    ("social-media-basics.xml", "moodle-xml", 5)])  # fmt: skip
def test_import_writes_a_quiz_that_passes_check_content(app, quizzes, bank, fmt, count):
    into = quizzes / "imported-bank.toml"
    result = run(app, "import-questions", str(BANKS / bank), "--format", fmt, "--into", str(into), *TRACK)
    assert result.exit_code == 0, output(result)
    assert f"Imported {count} question(s)" in result.output
    assert "skipped 3" in result.output
    assert "essay" in output(result)  # the skipped ones are listed
    spec, _ = spec_of(into)
    assert len(spec.questions) == count and spec.track == "social-media-manager"
    checked = run(app, "check-content")
    assert checked.exit_code == 0, output(checked)
    assert "imported-bank.toml" not in [line.split(":")[0] for line in output(checked).splitlines()
                                        if "[warning]" not in line]  # fmt: skip


@pytest.mark.parametrize(("bank", "fmt"), [("social-media-basics.gift", "gift"),
                                           ("social-media-basics.xml", "moodle-xml")])  # fmt: skip
def test_import_export_import_gives_the_same_quiz(app, quizzes, tmp_path, bank, fmt):
    first, second, gift = quizzes / "first.toml", quizzes / "second.toml", tmp_path / "out.gift"
    assert (
        run(
            app, "import-questions", str(BANKS / bank), "--format", fmt, "--into", str(first), *TRACK
        ).exit_code
        == 0
    )
    exported = run(app, "export-questions", str(first), "--format", "gift", "--out", str(gift))
    assert exported.exit_code == 0, output(exported)
    again = run(app, "import-questions", str(gift), "--format", "gift", "--into", str(second), *TRACK)
    assert again.exit_code == 0, output(again)
    assert "skipped 0" in again.output
    one, two = spec_of(first)[0], spec_of(second)[0]
    assert two.questions == one.questions
    assert two.content_hash == one.content_hash
    assert categories_of(second.read_text()) == categories_of(first.read_text())
    assert None not in categories_of(first.read_text())


def test_export_keeps_what_gift_cannot_say_in_lms_comments(app, quizzes, tmp_path):
    source = quizzes / "manager-measurement-with-numbers.toml"
    gift, back = tmp_path / "m.gift", quizzes / "measurement-again.toml"
    assert run(app, "export-questions", str(source), "--out", str(gift)).exit_code == 0
    assert '// lms: unit = "%"' in gift.read_text()
    result = run(app, "import-questions", str(gift), "--format", "gift", "--into", str(back), *TRACK)
    assert result.exit_code == 0, output(result)
    strip = ("module", "difficulty", "retired")  # tags of our own files that GIFT does not carry
    original = [{k: v for k, v in q.items() if k not in strip} for q in spec_of(source)[0].questions]
    assert spec_of(back)[0].questions == original


def test_an_existing_file_is_kept_unless_force(app, quizzes):
    into = quizzes / "manager-tools.toml"
    before = into.read_text()
    args = [
        "import-questions",
        str(BANKS / "social-media-basics.gift"),
        "--format",
        "gift",
        "--into",
        str(into),
    ]
    result = run(app, *args, *TRACK)
    assert result.exit_code == 1 and "exists; pass --force" in output(result)
    assert into.read_text() == before
    forced = run(app, *args, "--track", "social-media-manager", "--module", "tools", "--force")
    assert forced.exit_code == 0, output(forced)
    assert into.read_text() != before


def test_nothing_importable_exits_non_zero_and_writes_nothing(app, quizzes, tmp_path):
    bank = tmp_path / "essays.gift"
    bank.write_text("::One::Write about it. {}\n\n::Two::Match {=a -> b =c -> d =e -> f}\n")
    into = quizzes / "essays.toml"
    result = run(app, "import-questions", str(bank), "--format", "gift", "--into", str(into), *TRACK)
    assert result.exit_code == 1
    text = output(result)
    assert "line 1: essay 'One' skipped" in text and "line 3: matching 'Two' skipped" in text
    assert "nothing importable" in text and not into.exists()


def test_malformed_input_is_a_clear_error_with_its_line(app, quizzes, tmp_path):
    bank = tmp_path / "broken.gift"
    bank.write_text("::Good::Fine? {T}\n\n// a comment\n::Broken::Never closed {=a ~b\n")
    result = run(
        app, "import-questions", str(bank), "--format", "gift", "--into", str(quizzes / "b.toml"), *TRACK
    )
    assert result.exit_code == 1 and isinstance(
        result.exception, SystemExit
    )  # a ClickException, no traceback
    assert "broken.gift: line 4: the answers opened with '{' are never closed" in output(result)
    xml = tmp_path / "broken.xml"
    xml.write_bytes(b"<quiz>\n<question type='truefalse'>\n</quiz>")
    result = run(
        app, "import-questions", str(xml), "--format", "moodle-xml", "--into", str(quizzes / "b.toml"), *TRACK
    )
    assert result.exit_code == 1 and "line 3: not well-formed XML" in output(result)
    assert "Traceback" not in output(result) and not (quizzes / "b.toml").exists()


def test_a_quiz_that_would_not_pass_check_content_is_not_written(app, quizzes):
    into = quizzes / "nowhere.toml"
    result = run(app, "import-questions", str(BANKS / "social-media-basics.gift"), "--format", "gift",
                 "--into", str(into), "--track", "no-such-track", "--module", "x")  # fmt: skip
    assert result.exit_code == 1
    assert "unknown track 'no-such-track'" in output(result) and not into.exists()

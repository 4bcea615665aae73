"""`lms import-questions` and `lms export-questions`: a Moodle bank (GIFT or Moodle XML) into a quiz file, checked
as `lms check-content` checks it before anything is written, and a quiz file back out as GIFT."""

from __future__ import annotations

import tomllib
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.quizzes.importing.gift import read_gift
from lms.quizzes.importing.gift_export import export_gift
from lms.quizzes.importing.mapping import Imported, map_bank
from lms.quizzes.importing.model import BankError
from lms.quizzes.importing.moodle_xml import read_moodle_xml
from lms.quizzes.importing.writing import QuizSettings, categories_of, render_quiz
from lms.quizzes.spec import KINDS, SLUG, QuizFileChecker, read_quiz_file


def read_bank(path: Path, fmt: str) -> Imported:
    """The bank in a file, mapped onto our questions; BankError (with lines or elements) when malformed."""
    data = path.read_bytes()
    if fmt == "moodle-xml":
        return map_bank(read_moodle_xml(data))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BankError([("the file", "is not UTF-8 text (save the GIFT file as UTF-8)")]) from error
    return map_bank(read_gift(text))


def _content():
    from lms.content import check_content
    from lms.quizzes.quizset import _tracks_by_slug

    content = check_content(Path(current_app.config["COURSES_DIR"]), Path(current_app.config["QUIZZES_DIR"]))
    return _tracks_by_slug(content.parsed.get("courses")), content.parsed.get("quizzes", {})


def _check(into: Path, text: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The problems and item-writing warnings `lms check-content` would give the new file."""
    from lms.quizzes.itemchecks import check_items

    tracks, specs = _content()
    checker = QuizFileChecker(into, tomllib.loads(text), text, tracks)
    spec = checker.spec()
    others = [s for s in specs.values() if s.path.resolve() != into.resolve()]
    warnings = [(line, message) for path, line, message in check_items([*others, spec]) if path == into]
    return checker.problems, warnings


@click.command("import-questions")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format", "fmt", type=click.Choice(["gift", "moodle-xml"]), required=True, help="The file's format."
)
@click.option(
    "--into",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="The quiz file to write, e.g. quizzes/NAME.toml (its name is the quiz's slug).",
)
@click.option("--track", required=True, help="The track's slug (a folder in courses/).")
@click.option("--module", default=None, help="The module's slug (a module quiz; not for a final).")
@click.option("--kind", type=click.Choice(KINDS), default="module", show_default=True)
@click.option("--title", default=None, help="The quiz's title (default: from the file name).")
@click.option(
    "--time-limit",
    type=click.IntRange(min=1),
    default=None,
    help="Minutes (default: 1 per question, at least 10).",
)
@click.option(
    "--pass-percent", type=click.FloatRange(min=0, max=100, min_open=True), default=70, show_default=True
)
@click.option("--force", is_flag=True, help="Overwrite the file if it exists.")
@with_appcontext
def import_questions_command(source: Path, fmt: str, into: Path, track: str, module: str | None, kind: str,
                             title: str | None, time_limit: int | None, pass_percent: float, force: bool) -> None:  # fmt: skip
    """Convert a Moodle question bank (GIFT or Moodle XML) into a quiz file. Questions of types we do not have are
    listed with their line or element; the file is checked like `lms check-content` before it is written."""
    if into.suffix != ".toml" or not SLUG.match(into.stem):
        raise click.UsageError(
            f"--into must name a .toml file whose name is a slug (like quizzes/my-bank.toml), not {into}"
        )
    if into.exists() and not force:
        raise click.ClickException(f"{into} exists; pass --force to overwrite it.")
    try:
        imported = read_bank(source, fmt)
    except BankError as error:
        for where, message in error.problems:
            click.echo(f"{source}: {where}: {message}", err=True)
        raise click.ClickException(f"{source} is not a valid {fmt} file; nothing was written.") from error
    for skipped in imported.skipped:
        click.echo(f"{source}: {skipped}", err=True)
    if not imported.questions:
        raise click.ClickException(
            f"nothing importable in {source} ({len(imported.skipped)} question(s) skipped); nothing was written."
        )
    for note in imported.notes:
        click.echo(f"{source}: {note} [note]", err=True)
    count = len(imported.questions)
    settings = QuizSettings(
        title=title or into.stem.replace("-", " ").capitalize(), track=track, module=module, kind=kind,
        time_limit_minutes=time_limit or max(10, count), pass_percent=int(pass_percent) if pass_percent.is_integer() else pass_percent,
    )  # fmt: skip
    text = render_quiz(settings, imported.questions, imported.categories, source.name)
    problems, warnings = _check(into, text)
    if problems:
        for line, message in problems:
            click.echo(f"{into}:{line}: {message}", err=True)
        raise click.ClickException(
            f"the quiz file would not pass check-content ({len(problems)} problem(s)); nothing was written."
        )
    for line, message in warnings:
        click.echo(f"{into}:{line}: {message} [warning]", err=True)
    into.parent.mkdir(parents=True, exist_ok=True)
    into.write_text(text, encoding="utf-8")
    kinds = {}
    for question in imported.questions:
        kinds[question["type"]] = kinds.get(question["type"], 0) + 1
    summary = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
    click.echo(f"Imported {count} question(s) ({summary}) into {into}; skipped {len(imported.skipped)}; "
               f"{len(imported.notes)} note(s), {len(warnings)} warning(s).")  # fmt: skip


@click.command("export-questions")
@click.argument("quiz", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["gift"]), default="gift", show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here (default: print).",
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@with_appcontext
def export_questions_command(quiz: Path, fmt: str, out: Path | None, force: bool) -> None:
    """Write a quiz file's questions as GIFT, for Moodle or for `lms import-questions`."""
    tracks, _ = _content()
    spec, problems = read_quiz_file(quiz, tracks)
    if spec is None or problems:
        for line, message in problems:
            click.echo(f"{quiz}:{line}: {message}", err=True)
        raise click.ClickException(f"{quiz} has problems; fix them first (lms check-content).")
    if not spec.questions:
        raise click.ClickException(f"{quiz} has no questions of its own (it draws from bank {spec.bank!r}).")
    categories = categories_of(quiz.read_text(encoding="utf-8"))
    categories += [None] * (len(spec.questions) - len(categories))
    text = export_gift(spec.questions, categories[: len(spec.questions)], quiz.name)
    if out is None:
        click.echo(text, nl=False)
        return
    if out.exists() and not force:
        raise click.ClickException(f"{out} exists; pass --force to overwrite it.")
    out.write_text(text, encoding="utf-8")
    click.echo(f"Exported {len(spec.questions)} question(s) from {quiz} to {out}.", err=True)

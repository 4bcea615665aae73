"""The `flask --app wsgi lms ...` command group."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.content import ContentInvalid, check_content, sync_content

_BOOTSTRAP_STEPS: list[tuple[Callable[[], None], bool]] = []


def add_bootstrap_step(step: Callable[[], None], *, demo_only: bool = False) -> None:
    """A feature's part of `lms bootstrap`, run after the migrations and the content sync, in the order added
    (`demo_only`: only with --demo, the default of a development start)."""
    if all(existing is not step for existing, _ in _BOOTSTRAP_STEPS):
        _BOOTSTRAP_STEPS.append((step, demo_only))


@click.group("lms")
def lms_cli() -> None:
    """Run the platform: users, content, maintenance."""


@lms_cli.command("bootstrap")
@click.option(
    "--demo/--no-demo",
    default=None,
    help="Create the demo accounts (the default in development; refused in production).",
)
@with_appcontext
def bootstrap(demo: bool | None) -> None:
    """Create or upgrade the database, load courses/ and quizzes/, create demo accounts. Safe to run again."""
    from flask_migrate import upgrade

    from lms.config import PRODUCTION

    production = current_app.config.get("ENV_NAME") == PRODUCTION
    if demo and production:
        raise click.ClickException(
            "--demo is refused when LMS_ENV=production: the demo passwords are published. "
            "Create the first admin with `lms create-user --role admin`."
        )
    demo = not production if demo is None else demo

    upgrade(directory=current_app.extensions["migrate"].directory)
    click.get_current_context().invoke(sync_content_command, quiet=True)
    for step, demo_only in _BOOTSTRAP_STEPS:
        if demo or not demo_only:
            step()


def _content_dirs() -> tuple[Path, Path]:
    return Path(current_app.config["COURSES_DIR"]), Path(current_app.config["QUIZZES_DIR"])


@lms_cli.command("check-content")
@click.option(
    "--strict", is_flag=True, help="Fail on warnings too (item-writing checks, small blueprint pools)."
)
@with_appcontext
def check_content_command(strict: bool) -> None:
    """Validate courses/ and quizzes/, reporting every problem and warning with its file and line."""
    content = check_content(*_content_dirs())
    for problem in content.problems:
        click.echo(str(problem), err=True)
    for warning in content.warnings:
        click.echo(f"{warning} [{'error' if strict else 'warning'}]", err=True)
    failing = len(content.problems) + (len(content.warnings) if strict else 0)
    if failing:
        raise click.ClickException(f"{failing} problem(s) found; nothing was loaded.")
    if content.warnings:
        click.echo(f"Content is valid, with {len(content.warnings)} warning(s) (--strict makes them errors).")
    else:
        click.echo("Content is valid.")


@lms_cli.command("sync-content")
@click.option("--quiet", is_flag=True, help="Print only the totals.")
@with_appcontext
def sync_content_command(quiet: bool) -> None:
    """Load courses/ and quizzes/ into the database in one transaction (idempotent; retires, never deletes)."""
    try:
        changes = sync_content(*_content_dirs())
    except ContentInvalid as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{len(error.problems)} problem(s) found; nothing was written.") from error
    totals = Counter(change.action for change in changes)
    if not quiet:
        for change in changes:
            click.echo(str(change))
    summary = ", ".join(f"{totals[a]} {a}" for a in ("created", "updated", "unchanged", "retired"))
    click.echo(f"Content synced: {summary}." if changes else "No content found.")


@lms_cli.command("worker")
@click.option(
    "--once", is_flag=True, help="Run what is due now (and this minute's periodic jobs), then exit."
)
@click.option(
    "--poll", type=float, default=None, help="Seconds to wait when nothing is due (LMS_JOBS_POLL_SECONDS)."
)
@with_appcontext
def worker_command(once: bool, poll: float | None) -> None:
    """Run background jobs (emails, PDFs, reminders, the quiz clean-up every minute) until stopped. Start one or
    more on any hosts: each job runs on one of them, periodic jobs once per slot."""
    import signal
    import threading

    from lms.jobs import run_pending, run_worker, schedule_periodic

    if once:
        schedule_periodic()
        click.echo(f"Ran {run_pending()} job(s).")
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())  # finish the job at hand, then stop
    click.echo("Worker started; stop it with Ctrl+C or SIGTERM.")
    run_worker(poll_seconds=poll if poll is not None else current_app.config["JOBS_POLL_SECONDS"], stop=stop)
    click.echo("Worker stopped.")

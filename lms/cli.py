"""The `flask --app wsgi lms ...` command group."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.accounts import operations
from lms.accounts.models import Role
from lms.content import ContentInvalid, check_content, sync_content
from lms.errors import DomainError
from lms.extensions import db

DEMO_ACCOUNTS = [
    (Role.ADMIN, "admin@example.org", "Avery Admin", "blue-harbor-lantern"),
    (Role.INSTRUCTOR, "instructor@example.org", "Irene Instructor", "green-meadow-compass"),
    (Role.STUDENT, "student@example.org", "Sam Student", "amber-fox-journey"),
    (Role.STUDENT, "student2@example.org", "Sasha Student", "silver-oak-whistle"),
]


@click.group("lms")
def lms_cli() -> None:
    """Run the platform: users, content, maintenance."""


@lms_cli.command("create-user")
@click.option("--email", required=True, help="Sign-in email (stored lower-cased).")
@click.option("--name", "full_name", required=True, help="Full name, as printed on certificates.")
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default=Role.STUDENT.value, show_default=True
)
@click.password_option(help="Asked for when not given.")
@with_appcontext
def create_user(email: str, full_name: str, role: str, password: str) -> None:
    """Create an account, or change the role of an existing one."""
    existing = operations.find_user_by_email(email)
    if existing is not None:
        operations.set_role(None, existing, Role(role))
        click.echo(f"{existing.email} already exists; role is now {role}.")
        return
    try:
        user = operations.register_user(email, full_name, password, Role(role))
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    click.echo(f"Created {user.role} {user.email}.")


@lms_cli.command("bootstrap")
@click.option("--demo/--no-demo", default=True, show_default=True, help="Create the demo accounts.")
@with_appcontext
def bootstrap(demo: bool) -> None:
    """Create or upgrade the database, load courses/ and quizzes/, create demo accounts. Safe to run again."""
    from flask_migrate import upgrade

    upgrade(directory=current_app.extensions["migrate"].directory)
    click.get_current_context().invoke(sync_content_command, quiet=True)
    if demo:
        _ensure_demo_accounts()


def _ensure_demo_accounts() -> None:
    click.echo("\nDemo accounts (development only):")
    for role, email, name, password in DEMO_ACCOUNTS:
        if operations.find_user_by_email(email) is None:
            operations.register_user(email, name, password, role)
        click.echo(f"  {role.value:<10}  {email:<24}  password: {password}")
    click.echo("")


def _content_dirs() -> tuple[Path, Path]:
    return Path(current_app.config["COURSES_DIR"]), Path(current_app.config["QUIZZES_DIR"])


@lms_cli.command("check-content")
@with_appcontext
def check_content_command() -> None:
    """Validate courses/ and quizzes/, reporting every problem with its file and line."""
    content = check_content(*_content_dirs())
    for problem in content.problems:
        click.echo(str(problem), err=True)
    if content.problems:
        raise click.ClickException(f"{len(content.problems)} problem(s) found; nothing was loaded.")
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

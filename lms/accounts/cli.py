"""The accounts feature's commands: `lms create-user`, and the demo accounts `lms bootstrap` creates."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.accounts import operations
from lms.accounts.demo import DEMO_ACCOUNTS
from lms.accounts.models import Role
from lms.config import PRODUCTION
from lms.errors import DomainError
from lms.extensions import db

__all__ = ["DEMO_ACCOUNTS", "create_user", "ensure_demo_accounts", "register_commands", "set_password"]


@click.command("create-user")
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


@click.command("set-password")
@click.option("--email", required=True, help="The account's sign-in email.")
@click.password_option(help="Asked for when not given.")
@with_appcontext
def set_password(email: str, password: str) -> None:
    """Give an account a new password (signs out its sessions): e.g. a demo account left on a production site."""
    user = operations.find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"There is no account {email.strip().lower()}.")
    try:
        operations.set_password(None, user, password)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    click.echo(f"The password of {user.email} is changed; its sessions are signed out.")


def ensure_demo_accounts() -> None:
    """Create the demo accounts that do not exist yet, and print their logins (development only: production
    refuses, since their passwords are published)."""
    if current_app.config.get("ENV_NAME") == PRODUCTION:
        raise click.ClickException(
            "The demo accounts are never created when LMS_ENV=production: their passwords are published. "
            "Create the first admin with `lms create-user --role admin` (it asks for the password)."
        )
    click.echo("\nDemo accounts (development only):")
    for role, email, name, password in DEMO_ACCOUNTS:
        if operations.find_user_by_email(email) is None:
            operations.register_user(email, name, password, role)
        click.echo(f"  {role.value:<10}  {email:<24}  password: {password}")
    click.echo("")


def register_commands() -> None:
    """Add `lms create-user`, and the demo accounts as a step of `lms bootstrap --demo`."""
    from lms.cli import add_bootstrap_step, lms_cli

    lms_cli.add_command(create_user)
    lms_cli.add_command(set_password)
    add_bootstrap_step(ensure_demo_accounts, demo_only=True)

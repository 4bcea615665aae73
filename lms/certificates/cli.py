"""`flask --app wsgi lms issue-certificate` and `lms revoke-certificate`: the staff actions, from a shell.

Each names its operator (`--by EMAIL`, a staff account): the certificate's history says who did it, as it does
for the same action taken on a staff page.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from lms.accounts.models import User
from lms.accounts.operations import find_user_by_email
from lms.certificates import operations
from lms.certificates.codes import CodeError, parse_code
from lms.errors import DomainError
from lms.extensions import db

BY_HELP = "Your own sign-in email (a staff account): the certificate's history names you."


def _operator(email: str) -> User:
    """The staff account the operator named with --by; refused with a clear message otherwise."""
    operator = find_user_by_email(email)
    if operator is None or not operator.is_staff or not operator.is_active:
        raise click.ClickException(
            f"--by {email.strip().lower()} is not an active staff account: name your own instructor or admin "
            "account, so that the certificate's history says who did this."
        )
    return operator


@click.command("issue-certificate")
@click.option("--email", required=True, help="The student's sign-in email.")
@click.option("--track", "track_name", required=True, help="The track's slug (or its exact title).")
@click.option(
    "--reason",
    default="Issued from the command line",
    show_default=True,
    help="Why it is issued by hand; kept in the certificate's history.",
)
@click.option("--by", "by_email", required=True, help=BY_HELP)
@with_appcontext
def issue_certificate_command(email: str, track_name: str, reason: str, by_email: str) -> None:
    """Issue a certificate by hand and print its code and verification URL."""
    operator = _operator(by_email)
    user = find_user_by_email(email)
    if user is None:
        raise click.ClickException(f"No account uses the email {email.strip().lower()}.")
    track = operations.find_track(track_name)
    if track is None:
        raise click.ClickException(
            f"No track is called {track_name!r}; use its slug, e.g. social-media-strategist."
        )
    try:
        certificate = operations.issue_certificate(user, track, operator, reason)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    click.echo(f"Issued {certificate.display_code} to {user.full_name} for {track.title}.")
    click.echo(operations.verification_url(certificate))


@click.command("revoke-certificate")
@click.argument("code")
@click.option("--reason", required=True, help="Shown to anyone who verifies the certificate.")
@click.option("--by", "by_email", required=True, help=BY_HELP)
@with_appcontext
def revoke_certificate_command(code: str, reason: str, by_email: str) -> None:
    """Revoke a certificate by its code (for good; it stays, marked revoked, with the reason)."""
    operator = _operator(by_email)
    try:
        parsed = parse_code(code)
    except CodeError as error:
        raise click.ClickException(str(error)) from error
    certificate = operations.find_certificate(parsed.canonical)
    if certificate is None:
        raise click.ClickException(f"No certificate has the code {parsed.display}.")
    try:
        operations.revoke_certificate(certificate, operator, reason)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(error.message) from error
    click.echo(f"Revoked {parsed.display}: {reason}")

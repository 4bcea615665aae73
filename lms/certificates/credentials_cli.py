"""`flask --app wsgi lms rotate-signing-key`: add a new credential signing key (earlier ones stay, and verify)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from lms.certificates.credentials_did import verification_method_id
from lms.certificates.keys import SigningKeyError, keyring_path, rotate_signing_key


@click.command("rotate-signing-key")
@with_appcontext
def rotate_signing_key_command() -> None:
    """Add a new Ed25519 key to the keyring: new credentials are signed with it; earlier keys stay in the DID
    document, so the credentials they signed still verify."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        key = rotate_signing_key(app)
    except SigningKeyError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Added a signing key to {keyring_path(app)}; new credentials are signed with it.")
    click.echo(f"Its verification method: {verification_method_id(key)}")

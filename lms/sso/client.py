"""The OpenID Connect client (Authlib's Flask integration): discovery from LMS_OIDC_ISSUER, the authorization
code flow with PKCE (S256), and state and nonce kept in the signed session and checked by Authlib on return.

One client per app (tests build many apps with different providers), kept in app.extensions; none when single
sign-on is off."""

from __future__ import annotations

from typing import Any

from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app

EXTENSION = "lms.sso"


def install_client(app: Flask) -> None:
    issuer = app.config.get("OIDC_ISSUER", "")
    if not issuer:
        return
    oauth = OAuth(app)
    oauth.register(
        "oidc",
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer}/.well-known/openid-configuration",
        client_kwargs={
            "scope": app.config["OIDC_SCOPES"],
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",
            "default_timeout": app.config["OIDC_TIMEOUT_SECONDS"],
        },
    )
    app.extensions[EXTENSION] = oauth


def client() -> Any | None:
    """This app's provider client (FlaskOAuth2App), or None when single sign-on is off."""
    oauth = current_app.extensions.get(EXTENSION)
    return None if oauth is None else oauth.oidc


def metadata(oidc: Any) -> dict[str, Any]:
    """The provider's discovery document, read once per process; its issuer must be the configured one (OpenID
    Connect Discovery 1.0, section 4.3), or a look-alike document could name another issuer's keys."""
    found = oidc.load_server_metadata()
    if found.get("issuer") != current_app.config["OIDC_ISSUER"]:
        oidc.server_metadata.clear()
        raise ValueError(f"the discovery document names issuer {found.get('issuer')!r}")
    return found

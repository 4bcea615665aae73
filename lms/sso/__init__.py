"""Single sign-on with the organization's OpenID Connect provider (LMS_OIDC_*; README "Single sign-on")."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request, url_for


def _sign_in_button() -> dict[str, Any] | None:
    """What the sign-in page shows when single sign-on is on: the provider's name and where the button goes."""
    if not current_app.config.get("OIDC_ISSUER"):
        return None
    next_target = request.values.get("next") or None
    return {"name": current_app.config["OIDC_NAME"], "url": url_for("sso.login", next=next_target)}


def register(app: Flask) -> None:
    """The blueprint, the provider's client, the sign-in button and the password rule for linked accounts."""
    from lms.accounts import operations as accounts
    from lms.sso import operations
    from lms.sso.client import install_client
    from lms.sso.views import bp

    app.register_blueprint(bp)
    install_client(app)
    app.add_template_global(_sign_in_button, "sso_sign_in")
    accounts.refuse_passwords_with("sso", operations.password_refusal)

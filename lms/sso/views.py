"""Single sign-on pages: "Sign in with <provider>" sends the browser to the provider; its answer comes back to
/sso/callback as a GET that changes nothing: it shows a page whose form (sent at once by js/sso.js, or by its
button) posts the code back with our CSRF token, and that POST checks state, nonce and the ID token, then signs in
exactly as the password does (record_sign_in, a new server-side session, the known-device cookie)."""

from __future__ import annotations

from typing import Any

import requests
from authlib.integrations.base_client import OAuthError
from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_wtf import FlaskForm
from joserfc.errors import JoseError
from wtforms import HiddenField

from lms.accounts import operations as accounts
from lms.accounts import session_views
from lms.accounts.access import anonymous_only
from lms.accounts.redirects import safe_next
from lms.errors import DomainError
from lms.extensions import limiter
from lms.sso import client as provider
from lms.sso import operations

bp = Blueprint("sso", __name__)
NEXT_KEY = "sso_next"


class FinishForm(FlaskForm):
    code = HiddenField()
    state = HiddenField()
    iss = HiddenField()


def _login_limit() -> str:
    return current_app.config["LOGIN_LIMIT_PER_ADDRESS"]


def _name() -> str:
    return current_app.config["OIDC_NAME"]


def _refused(message: str, status: int) -> Any:
    return render_template("sso/refused.html", message=message, name=_name()), status


def _unavailable() -> Any:
    return _refused("Single sign-on is not set up on this site. Sign in with your email and password.", 404)


def _unreachable(error: Exception) -> Any:
    current_app.logger.warning("the identity provider could not be reached: %s", error)
    return _refused(f"{_name()} could not be reached just now. Try again in a minute.", 502)


def callback_url() -> str:
    """The redirect URI to register at the provider: the site's public address (LMS_BASE_URL) + /sso/callback."""
    return current_app.config["BASE_URL"] + url_for("sso.callback")


@bp.route("/sso/login")
@anonymous_only
@limiter.limit(_login_limit)
def login() -> Any:
    oidc = provider.client()
    if oidc is None:
        return _unavailable()
    session[NEXT_KEY] = safe_next(request.args.get("next"), url_for("pages.dashboard"))
    try:
        provider.metadata(oidc)
        return oidc.authorize_redirect(callback_url())
    except (requests.RequestException, ValueError) as error:
        return _unreachable(error)


@bp.get("/sso/callback")
@anonymous_only
def callback() -> Any:
    if provider.client() is None:
        return _unavailable()
    if request.args.get("error"):
        described = request.args.get("error_description") or request.args["error"]
        return _refused(f"{_name()} did not sign you in: {described[:200]}", 403)
    form = FinishForm(formdata=None, **{k: request.args.get(k, "") for k in ("code", "state", "iss")})
    if not form.code.data or not form.state.data:
        return _refused("This sign-in link is incomplete. Start again from the sign-in page.", 400)
    return render_template("sso/finish.html", form=form, name=_name())


def _claims(oidc: Any) -> dict[str, Any]:
    """The ID token's claims, checked by Authlib (signature against the provider's keys, issuer, audience, expiry,
    nonce from this browser's session, state and PKCE); the userinfo endpoint's claims fill in what it lacks."""
    token = oidc.authorize_access_token()
    claims = token.get("userinfo")
    if not claims:
        raise OAuthError(description="the provider sent no ID token")
    claims = dict(claims)
    if "email" not in claims and provider.metadata(oidc).get("userinfo_endpoint"):
        extra = dict(oidc.userinfo(token=token))
        if extra.get("sub") == claims["sub"]:
            claims = {**extra, **claims}
    return claims


@bp.post("/sso/callback")
@anonymous_only
@limiter.limit(_login_limit)
def finish() -> Any:
    oidc = provider.client()
    if oidc is None:
        return _unavailable()
    form = FinishForm()
    if not form.validate_on_submit():
        return _refused("This sign-in form has expired. Start again from the sign-in page.", 400)
    issuer = current_app.config["OIDC_ISSUER"]
    if form.iss.data and form.iss.data != issuer:  # RFC 9207: the answer came from another provider
        return _refused("This answer did not come from your organization's provider. Start again.", 400)
    try:
        claims = _claims(oidc)
    except (requests.RequestException, ValueError) as error:
        return _unreachable(error)
    except (OAuthError, JoseError) as error:
        current_app.logger.warning("single sign-on refused: %r", error)
        return _refused(
            f"The answer from {_name()} could not be trusted (it did not match this browser's sign-in, or its "
            "ID token was not valid), so you are not signed in. Start again from the sign-in page.",
            400,
        )
    try:
        outcome = operations.sign_in_with_claims(
            issuer,
            claims,
            role_claim=current_app.config["OIDC_ROLE_CLAIM"],
            role_map=current_app.config["OIDC_ROLE_MAP"],
        )
    except DomainError as error:
        return _refused(error.message, 403)
    user = outcome.user
    target = session.pop(NEXT_KEY, None) or url_for("pages.dashboard")
    cookie = session_views.device_cookie()
    accounts.record_sign_in(user, known_device=session_views.knows_device(user.email))
    session_views.sign_in(user)
    flash(f"Signed in as {user.full_name}.", "success")
    response = redirect(safe_next(target, url_for("pages.dashboard")))
    return session_views.remember_device(response, cookie, user.email)

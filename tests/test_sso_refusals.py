"""Single sign-on refuses what it cannot trust, against a real OpenID provider (tools/oidc-provider): a `state`
that is not this browser's, an ID token for another `nonce`, an expired ID token, one signed with a key the
provider does not publish, and the provider's own "no". Nobody is signed in and no account is created or linked.
Both databases."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import sqlalchemy as sa

from lms.accounts.models import User
from lms.extensions import db
from lms.sso.models import SsoIdentity
from tests.oidc import Provider, Providers, come_back, sign_in_at_provider, sign_in_with_sso, start_sign_in

NOT_TRUSTED = "could not be trusted"


@pytest.fixture
def mode() -> str:
    return "normal"


@pytest.fixture
def provider(providers: Providers, mode: str) -> Provider:
    return providers.get(mode)


@pytest.fixture
def app_config(app_config: dict[str, Any], provider: Provider) -> dict[str, Any]:
    return {**provider.settings(), **app_config}


@pytest.fixture
def login(provider: Provider) -> str:
    return provider.add_user(
        "mallory-target", email="target@example.org", email_verified=True, name="Tara Target"
    )


def _nobody_signed_in(client: Any) -> None:
    assert client.get("/dashboard").status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SsoIdentity)) == 0


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {**dict(parse_qsl(parts.query)), **changes}
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_the_well_behaved_provider_signs_in(client, login):
    """The refusals below differ from this only in what they break."""
    assert sign_in_with_sso(client, login).status_code == 302
    assert client.get("/dashboard").status_code == 200


def test_a_state_this_browser_did_not_start_is_refused(client, login, caplog):
    callback = sign_in_at_provider(start_sign_in(client), login)
    response = come_back(client, callback, state="made-up-state")
    assert response.status_code == 400 and NOT_TRUSTED in response.get_data(as_text=True)
    assert "MismatchingStateError" in caplog.text
    _nobody_signed_in(client)


def test_an_answer_meant_for_another_browser_is_refused(app, client, login):
    """Login CSRF: an attacker's own code and state, delivered to the victim's browser, sign nobody in."""
    attackers_browser = app.test_client()
    callback = sign_in_at_provider(start_sign_in(attackers_browser), login)
    response = come_back(client, callback)
    assert response.status_code == 400 and NOT_TRUSTED in response.get_data(as_text=True)
    _nobody_signed_in(client)


def test_a_state_is_used_once(client, login):
    callback = sign_in_at_provider(start_sign_in(client), login)
    assert come_back(client, callback).status_code == 302
    client.post("/logout", data={})
    again = come_back(client, callback)
    assert again.status_code == 400


def test_an_id_token_for_another_nonce_is_refused(client, login, caplog):
    authorize = start_sign_in(client)
    assert "nonce=" in authorize and "code_challenge_method=S256" in authorize
    callback = sign_in_at_provider(_with_query(authorize, nonce="an-attackers-nonce"), login)
    response = come_back(client, callback)
    assert response.status_code == 400 and NOT_TRUSTED in response.get_data(as_text=True)
    assert "Invalid claim: 'nonce'" in caplog.text
    _nobody_signed_in(client)


def test_the_code_verifier_must_match(client, login, caplog):
    """PKCE: a code asked for with another challenge is refused by the provider's token endpoint."""
    authorize = start_sign_in(client)
    other = _with_query(authorize, code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    response = come_back(client, sign_in_at_provider(other, login))
    assert response.status_code == 400 and "invalid_grant" in caplog.text
    _nobody_signed_in(client)


@pytest.mark.parametrize("mode", ["expired"])
def test_an_expired_id_token_is_refused(client, login, caplog):
    response = sign_in_with_sso(client, login)
    assert response.status_code == 400 and NOT_TRUSTED in response.get_data(as_text=True)
    assert "ExpiredTokenError" in caplog.text
    _nobody_signed_in(client)


@pytest.mark.parametrize("mode", ["wrong-key"])
def test_an_id_token_signed_with_another_key_is_refused(client, login, caplog):
    response = sign_in_with_sso(client, login)
    assert response.status_code == 400 and NOT_TRUSTED in response.get_data(as_text=True)
    assert "BadSignatureError" in caplog.text
    _nobody_signed_in(client)


def test_the_providers_refusal_is_shown(client, provider):
    response = client.get("/sso/callback?error=access_denied&error_description=End-User+aborted+interaction")
    assert response.status_code == 403
    assert "End-User aborted interaction" in response.get_data(as_text=True)
    _nobody_signed_in(client)


def test_an_answer_from_another_issuer_is_refused(client, login):
    callback = sign_in_at_provider(start_sign_in(client), login)
    response = come_back(client, callback, iss="https://evil.example")
    assert response.status_code == 400
    _nobody_signed_in(client)


def test_a_callback_without_code_or_state_is_refused(client, provider):
    assert client.get("/sso/callback?state=x").status_code == 400
    assert client.get("/sso/callback").status_code == 400


def test_the_finishing_form_needs_its_csrf_token(client, login):
    callback = sign_in_at_provider(start_sign_in(client), login)
    query = dict(parse_qsl(urlsplit(callback).query))
    response = client.post("/sso/callback", data=query, csrf=False)
    assert response.status_code == 400
    _nobody_signed_in(client)


@pytest.mark.app_config(RATELIMIT_ENABLED=True, LOGIN_LIMIT_PER_ADDRESS="2 per minute")
def test_single_sign_on_is_rate_limited_like_the_password(client, provider):
    assert [client.get("/sso/login").status_code for _ in range(3)] == [302, 302, 429]


@pytest.mark.app_config(OIDC_ISSUER="http://127.0.0.1:9")  # nothing listens on the discard port
def test_an_unreachable_provider_is_a_clear_page(client):
    response = client.get("/sso/login")
    assert response.status_code == 502 and "could not be reached" in response.get_data(as_text=True)

"""Single sign-on settings (lms.config): off without an issuer, an https issuer in production (http only on
loopback in development), a client id and secret with it, and a role map that names real roles."""

from __future__ import annotations

import pytest

from lms.config import load_config

OIDC_VARIABLES = (
    "LMS_OIDC_ISSUER",
    "LMS_OIDC_CLIENT_ID",
    "LMS_OIDC_CLIENT_SECRET",
    "LMS_OIDC_NAME",
    "LMS_OIDC_ROLE_CLAIM",
    "LMS_OIDC_ROLE_MAP",
    "LMS_OIDC_DISABLE_PASSWORDS",
)


@pytest.fixture
def env(monkeypatch):
    for name in OIDC_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("LMS_ENV", raising=False)
    return monkeypatch


def _client(env, issuer: str) -> None:
    env.setenv("LMS_OIDC_ISSUER", issuer)
    env.setenv("LMS_OIDC_CLIENT_ID", "lms")
    env.setenv("LMS_OIDC_CLIENT_SECRET", "s3cret")


def _production(env) -> None:
    env.setenv("LMS_ENV", "production")
    env.setenv("LMS_SECRET_KEY", "x" * 40)
    env.setenv("LMS_RATELIMIT_STORAGE_URL", "redis://127.0.0.1:6379/0")


def test_single_sign_on_is_off_by_default(env, tmp_path):
    config = load_config(tmp_path)
    assert config["OIDC_ISSUER"] == "" and config["OIDC_NAME"] == "your organization"
    assert config["OIDC_ROLE_MAP"] == {} and config["OIDC_DISABLE_PASSWORDS"] is False


def test_the_settings_are_read(env, tmp_path):
    _client(env, "https://login.example.org/realms/staff/")
    env.setenv("LMS_OIDC_NAME", "Example Corp")
    env.setenv("LMS_OIDC_ROLE_CLAIM", "groups")
    env.setenv("LMS_OIDC_ROLE_MAP", "lms-admins=admin, lms-instructors=Instructor,")
    env.setenv("LMS_OIDC_DISABLE_PASSWORDS", "1")
    config = load_config(tmp_path)
    assert (
        config["OIDC_ISSUER"] == "https://login.example.org/realms/staff"
    )  # as the discovery document says it
    assert config["OIDC_ROLE_MAP"] == {"lms-admins": "admin", "lms-instructors": "instructor"}
    assert (config["OIDC_NAME"], config["OIDC_ROLE_CLAIM"], config["OIDC_DISABLE_PASSWORDS"]) == (
        "Example Corp",
        "groups",
        True,
    )


def test_production_needs_an_https_issuer(env, tmp_path):
    _production(env)
    _client(env, "http://127.0.0.1:8080")
    with pytest.raises(RuntimeError, match="LMS_OIDC_ISSUER must be an https URL"):
        load_config(tmp_path)
    _client(env, "https://login.example.org")
    assert load_config(tmp_path)["OIDC_ISSUER"] == "https://login.example.org"


@pytest.mark.parametrize("issuer", ["http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"])
def test_development_allows_http_on_loopback(env, tmp_path, issuer):
    _client(env, issuer)
    assert load_config(tmp_path)["OIDC_ISSUER"] == issuer


@pytest.mark.parametrize("issuer", ["http://login.example.org", "ftp://127.0.0.1", "login.example.org"])
def test_development_refuses_http_elsewhere(env, tmp_path, issuer):
    _client(env, issuer)
    with pytest.raises(RuntimeError, match="LMS_OIDC_ISSUER"):
        load_config(tmp_path)


def test_an_issuer_needs_its_client(env, tmp_path):
    env.setenv("LMS_OIDC_ISSUER", "https://login.example.org")
    with pytest.raises(RuntimeError, match="LMS_OIDC_CLIENT_ID and LMS_OIDC_CLIENT_SECRET"):
        load_config(tmp_path)


@pytest.mark.parametrize("role_map", ["lms-admins", "lms-admins=superuser", "=admin"])
def test_a_role_map_must_name_real_roles(env, tmp_path, role_map):
    env.setenv("LMS_OIDC_ROLE_MAP", role_map)
    with pytest.raises(RuntimeError, match="LMS_OIDC_ROLE_MAP"):
        load_config(tmp_path)

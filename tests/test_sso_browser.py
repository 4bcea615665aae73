"""In a real browser: "Sign in with Example Corp" on our sign-in page, the test OpenID provider's own login page
(tools/oidc-provider: oidc-provider's development login form), and back to our site, signed in on the dashboard."""

from __future__ import annotations

import socket
from typing import Any

import pytest
import sqlalchemy as sa

from lms.extensions import db
from lms.sso.models import SsoIdentity
from tests.oidc import Providers

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def app_config(
    app_config: dict[str, Any], providers: Providers, pytestconfig: pytest.Config
) -> dict[str, Any]:
    """The live server's address is chosen first: the provider must know it as the redirect URI."""
    port = _free_port()
    base_url = f"http://{pytestconfig.getvalue('live_server_host')}:{port}"
    provider = providers.get("normal", (f"{base_url}/sso/callback",))
    provider.add_user("grace", email="grace@example.org", email_verified=True, name="Grace Hopper")
    return {**provider.settings(), **app_config, "LIVESERVER_PORT": port, "BASE_URL": base_url}


def test_a_person_signs_in_on_the_providers_page_and_lands_on_the_dashboard(page):
    page.goto("/login")
    page.get_by_role("link", name="Sign in with Example Corp").click()

    # The provider's own login page (another origin): its form, its button.
    page.locator("input[name=login]").fill("grace")
    page.locator("input[name=password]").fill("any password will do here")
    page.get_by_role("button", name="Sign-in").click()

    page.get_by_role("heading", name="Welcome, Grace Hopper").wait_for()
    assert page.url.endswith("/dashboard")
    page.get_by_text("Signed in as Grace Hopper.").wait_for()
    assert db.session.execute(sa.select(SsoIdentity.subject)).scalar_one() == "grace"

    page.get_by_role("button", name="Sign out").click()
    page.get_by_text("You are signed out.").wait_for()

"""A real OpenID Connect provider for the single sign-on tests (tools/oidc-provider/server.mjs: panva's
oidc-provider on loopback), and a person signing in on its own login page through real HTTP.

`providers` (session-scoped) starts one provider per (mode, redirect URIs) and keeps it for the session;
`sign_in_at_provider` follows the provider's redirects, submits its login form and returns the URL the provider
sends the browser back to (our /sso/callback with code and state)."""

from __future__ import annotations

import html
import json
import re
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests

from lms import PROJECT_ROOT

TOOL = PROJECT_ROOT / "tools" / "oidc-provider"
CLIENT_ID = "lms"
CLIENT_SECRET = "lms-test-secret"
TEST_CALLBACK = (
    "http://127.0.0.1:5000/sso/callback"  # BASE_URL in the tests (lms.config's development default)
)
START_SECONDS = 30


class Provider:
    """One running server.mjs: its issuer URL, and the people who may sign in (claims by login name)."""

    def __init__(self, redirect_uris: list[str], mode: str = "normal") -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="lms-oidc-"))
        self.users_file = self.folder / "users.json"
        self.users: dict[str, dict[str, Any]] = {}
        self.users_file.write_text("{}")
        self.log = (self.folder / "provider.log").open("w")
        command = [
            "node",
            str(TOOL / "server.mjs"),
            "--port",
            "0",
            "--mode",
            mode,
            "--users",
            str(self.users_file),
        ]
        for uri in redirect_uris:
            command += ["--redirect-uri", uri]
        self.process = subprocess.Popen(command, cwd=TOOL, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.issuer = self._wait_for_issuer()

    def _wait_for_issuer(self) -> str:
        deadline = time.monotonic() + START_SECONDS
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.startswith("listening on "):
                return line.removeprefix("listening on ").strip()
            if not line and self.process.poll() is not None:
                break
        self.stop()
        raise RuntimeError(
            f"the test OpenID provider did not start: {(self.folder / 'provider.log').read_text()}"
        )

    def add_user(self, login: str, **claims: Any) -> str:
        """Someone who can sign in at the provider as `login` (the subject), with these claims."""
        self.users[login] = claims
        self.users_file.write_text(json.dumps(self.users))
        return login

    def settings(self, **extra: Any) -> dict[str, Any]:
        """The app settings that use this provider."""
        return {
            "OIDC_ISSUER": self.issuer,
            "OIDC_CLIENT_ID": CLIENT_ID,
            "OIDC_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_NAME": "Example Corp",
            "OIDC_SCOPES": "openid email profile groups",
            **extra,
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.log.close()


class Providers:
    def __init__(self) -> None:
        self.running: dict[tuple[str, tuple[str, ...]], Provider] = {}

    def get(self, mode: str = "normal", redirect_uris: tuple[str, ...] = (TEST_CALLBACK,)) -> Provider:
        key = (mode, redirect_uris)
        if key not in self.running:
            self.running[key] = Provider(list(redirect_uris), mode)
        return self.running[key]

    def stop_all(self) -> None:
        for provider in self.running.values():
            provider.stop()
        self.running.clear()


@pytest.fixture(scope="session")
def providers() -> Iterator[Providers]:
    """Test OpenID providers, started on first use (npm packages installed first if need be, from the lockfile)."""
    done = subprocess.run([str(TOOL / "install")], capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"tools/oidc-provider/install failed:\n{done.stdout}\n{done.stderr}"
    running = Providers()
    try:
        yield running
    finally:
        running.stop_all()


@pytest.fixture(scope="session")
def oidc_provider(providers: Providers) -> Provider:
    """The well-behaved provider, redirecting back to the tests' BASE_URL."""
    return providers.get()


_FORM = re.compile(r'<form[^>]*action="([^"]+)"[^>]*method="post"', re.IGNORECASE)


def sign_in_at_provider(authorize_url: str, login: str, http: requests.Session | None = None) -> str:
    """Open the provider's authorization URL as a browser would, sign in on its login page as `login`, and return
    the URL it sends the browser back to (not followed: that is our site)."""
    http = http or requests.Session()
    issuer_origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    url, method, data = authorize_url, "GET", None
    for _ in range(12):
        response = http.request(method, url, data=data, allow_redirects=False, timeout=10)
        if response.is_redirect:
            url, method, data = urljoin(url, response.headers["Location"]), "GET", None
            if not url.startswith(issuer_origin):
                return url
            continue
        form = _FORM.search(response.text)
        assert response.status_code == 200 and form, f"no login form at {url}: {response.status_code}"
        url, method = urljoin(url, form.group(1)), "POST"
        data = {"prompt": "login", "login": login, "password": "any password"}
    raise AssertionError("the provider never sent the browser back")


_HIDDEN = re.compile(r'<input[^>]*\bname="(code|state|iss|csrf_token)"[^>]*\bvalue="([^"]*)"')


def start_sign_in(client: Any, next_target: str | None = None) -> str:
    """Press "Sign in with ..." on our site: the provider's authorization URL it redirects to."""
    response = client.get("/sso/login", query_string={"next": next_target} if next_target else None)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def come_back(client: Any, callback_url: str, **tampered: str) -> Any:
    """The browser arrives at our callback (a GET that changes nothing), then sends the page's form on, as its
    script does; `tampered` replaces fields of that form (state, code) as an attacker would."""
    parts = urlsplit(callback_url)
    assert parts.path == "/sso/callback", callback_url
    page = client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200, page.get_data(as_text=True)
    fields = {name: html.unescape(value) for name, value in _HIDDEN.findall(page.get_data(as_text=True))}
    assert {"code", "state", "csrf_token"} <= set(fields), fields
    return client.post("/sso/callback", data={**fields, **tampered})


def sign_in_with_sso(client: Any, login: str, next_target: str | None = None) -> Any:
    """The whole round trip for `login`: our response to the final POST (a redirect when signed in)."""
    return come_back(client, sign_in_at_provider(start_sign_in(client, next_target), login))

"""Real headless Chromium (Debian's package) driven by Playwright against a live server."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("LMS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) or run `make test`"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser tab (own cookies) whose relative URLs go to the live server."""
    # In UTC whatever the machine's zone: pages show times in the browser's zone (lms/timezones.py).
    context = chromium.new_context(
        base_url=live_server.url(), viewport={"width": 1280, "height": 900}, timezone_id="UTC"
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture
def live_server_inherits() -> None:
    """What the live server must inherit from this process (monkeypatched stand-ins), in place before it forks.

    The server forks as soon as a test asks for it (pytest-flask's autouse fixture pushes its request context),
    before the test's own fixtures run: a module whose server needs a stand-in overrides this fixture. Rows need
    nothing of the kind: the server reads the same database, so fixtures write them before or after the fork."""


@pytest.fixture
def live_server(
    live_server_inherits: None, _live_server_address: None, _no_connection_across_fork: None, live_server: Any
) -> Any:
    """pytest-flask's live server, forked only once this process holds no database connection, with the app's
    links (certificate URLs, Open Badges ids) pointing at it unless the test configured an address of its own.

    A connection open at fork time would be shared with the server: for SQLite that means the server keeps reading
    through a deleted WAL index and never sees rows the test writes afterwards (SQLite: never carry a connection
    across fork)."""
    return live_server


@pytest.fixture
def _live_server_address(app: Any, app_config: dict[str, Any], pytestconfig: pytest.Config) -> None:
    """Choose the live server's port now (pytest-flask would choose it while forking) so that BASE_URL says it."""
    port = app.config.get("LIVESERVER_PORT") or pytestconfig.getvalue("live_server_port") or _free_port()
    app.config["LIVESERVER_PORT"] = port
    if "BASE_URL" not in app_config:
        app.config["BASE_URL"] = f"http://{pytestconfig.getvalue('live_server_host')}:{port}"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def _no_connection_across_fork(app: Any) -> None:
    from lms.database import dispose_engines
    from lms.extensions import db

    db.session.remove()
    dispose_engines(db.engine)

"""Settings: the development secret is made once, even when several processes start at the same moment; links
point where the development server listens, unless an address is configured."""

from __future__ import annotations

import os
import shlex
import subprocess
import threading
from unittest.mock import patch

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.cli import FlaskGroup

from lms import PROJECT_ROOT
from lms.config import _dev_secret_key, load_config


def test_processes_starting_together_agree_on_one_development_secret(tmp_path):
    instance = tmp_path / "instance"
    keys: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def start_up() -> None:
        start.wait()
        try:
            keys.append(_dev_secret_key(instance))
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=start_up) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(keys)) == 1 and len(keys[0]) >= 40
    assert sorted(p.name for p in instance.iterdir()) == ["secret_key"]  # no candidate files left behind
    assert (instance / "secret_key").stat().st_mode & 0o077 == 0  # readable by the owner only
    assert _dev_secret_key(instance) == keys[0]  # and kept across restarts


def test_production_refuses_to_start_without_a_secret(tmp_path, monkeypatch):
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="LMS_SECRET_KEY"):
        load_config(tmp_path)


@pytest.fixture
def no_address_settings(monkeypatch):
    """Start from a shell that says nothing about the address (the developer's own may)."""
    for name in ("LMS_ENV", "LMS_BASE_URL", "FLASK_RUN_HOST", "FLASK_RUN_PORT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def make_run_environment(*arguments: str) -> dict[str, str]:
    """The variables `make run ARGS` gives `flask run` (read from the recipe make would execute)."""
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", "run", *arguments],
        cwd=PROJECT_ROOT, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    [serve] = [line for line in done.stdout.splitlines() if line.rstrip().endswith("--app wsgi run")]
    words = shlex.split(serve)
    return dict(word.split("=", 1) for word in words[: next(i for i, w in enumerate(words) if "=" not in w)])


@pytest.mark.parametrize(
    ("arguments", "listens", "base_url"),
    [
        ((), ("127.0.0.1", 5000), "http://127.0.0.1:5000"),
        (("PORT=5101",), ("127.0.0.1", 5101), "http://127.0.0.1:5101"),
        (("HOST=localhost", "PORT=5102"), ("localhost", 5102), "http://localhost:5102"),
        # Listening everywhere: this machine's own address reaches it.
        (("HOST=0.0.0.0", "PORT=5103"), ("0.0.0.0", 5103), "http://127.0.0.1:5103"),  # noqa: S104
    ],
)
def test_make_run_links_point_where_the_server_listens(
    no_address_settings, tmp_path, arguments, listens, base_url
):
    environment = make_run_environment(*arguments)
    assert served_at(environment) == listens  # `flask run` reads the very variables the links follow
    for name, value in environment.items():
        no_address_settings.setenv(name, value)
    assert load_config(tmp_path)["BASE_URL"] == base_url


def served_at(environment: dict[str, str]) -> tuple[str, int]:
    """Where `flask run` listens with these variables (the server itself is not started)."""
    listened: list[tuple[str, int]] = []

    def run_simple(host: str, port: int, *args: object, **kwargs: object) -> None:
        listened.append((host, port))

    # The command line marks the process as run from it (FLASK_RUN_FROM_CLI, after which app.run() does nothing,
    # and the live servers of later tests would never start): every variable is put back afterwards.
    with patch.dict(os.environ), patch("flask.cli.run_simple", run_simple):
        group = FlaskGroup(create_app=lambda: Flask("served"), load_dotenv=False)
        result = CliRunner().invoke(group, ["run"], env=environment)
    assert result.exit_code == 0, result.output
    [address] = listened
    return address


def test_a_flask_run_without_settings_keeps_the_usual_address(no_address_settings, tmp_path):
    assert load_config(tmp_path)["BASE_URL"] == "http://127.0.0.1:5000"


def test_an_ipv6_listening_address_is_bracketed(no_address_settings, tmp_path):
    no_address_settings.setenv("FLASK_RUN_HOST", "::1")
    no_address_settings.setenv("FLASK_RUN_PORT", "5104")
    assert load_config(tmp_path)["BASE_URL"] == "http://[::1]:5104"


def test_an_explicit_base_url_always_wins(no_address_settings, tmp_path):
    no_address_settings.setenv("FLASK_RUN_PORT", "5101")
    no_address_settings.setenv("LMS_BASE_URL", "https://learn.example.org/")
    assert load_config(tmp_path)["BASE_URL"] == "https://learn.example.org"


def test_production_uses_the_configured_address_never_the_dev_servers(no_address_settings, tmp_path):
    no_address_settings.setenv("LMS_ENV", "production")
    no_address_settings.setenv("LMS_SECRET_KEY", "a-long-random-secret")
    no_address_settings.setenv("LMS_RATELIMIT_STORAGE_URL", "redis://127.0.0.1:6379")
    no_address_settings.setenv("FLASK_RUN_HOST", "10.0.0.7")
    no_address_settings.setenv("FLASK_RUN_PORT", "8000")
    assert load_config(tmp_path)["BASE_URL"] == "http://127.0.0.1:5000"  # unset: as before
    no_address_settings.setenv("LMS_BASE_URL", "https://learn.example.org")
    assert load_config(tmp_path)["BASE_URL"] == "https://learn.example.org"


def test_a_port_that_is_not_a_number_is_refused(no_address_settings, tmp_path):
    no_address_settings.setenv("FLASK_RUN_PORT", "fifty")
    with pytest.raises(RuntimeError, match="FLASK_RUN_PORT"):
        load_config(tmp_path)

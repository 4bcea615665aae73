"""Production never starts with known credentials, or with limits that do not hold; its processes log each record
once and do not share a control socket."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from lms import PROJECT_ROOT, create_app
from lms.accounts import operations
from lms.accounts.cli import DEMO_ACCOUNTS
from lms.accounts.models import Role, User
from lms.certificates.keys import new_secret_key_text
from lms.config import load_config
from lms.database import dispose_engines
from lms.extensions import db
from tests.conftest import BASE_CONFIG

ADMIN_EMAIL, ADMIN_PASSWORD = DEMO_ACCOUNTS[0][1], DEMO_ACCOUNTS[0][3]


def production(config: dict) -> dict:
    return {**config, "ENV_NAME": "production", "SIGNING_KEY": new_secret_key_text()}


def started(config: dict) -> bool:
    app = create_app(config)
    with app.app_context():
        dispose_engines(db.engine)
    return True


def test_production_refuses_in_memory_rate_limits(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.setenv("LMS_SECRET_KEY", "a-long-random-secret")
    monkeypatch.delenv("LMS_RATELIMIT_STORAGE_URL", raising=False)
    with pytest.raises(RuntimeError, match="LMS_RATELIMIT_STORAGE_URL must name a shared store"):
        load_config(tmp_path)
    monkeypatch.setenv("LMS_RATELIMIT_STORAGE_URL", "memory://")
    with pytest.raises(RuntimeError, match="memory:// counts each worker apart"):
        load_config(tmp_path)
    monkeypatch.setenv("LMS_RATELIMIT_STORAGE_URL", "redis://redis.internal:6379/0")
    assert load_config(tmp_path)["RATELIMIT_STORAGE_URI"] == "redis://redis.internal:6379/0"
    monkeypatch.setenv("LMS_ENV", "development")
    monkeypatch.delenv("LMS_RATELIMIT_STORAGE_URL")
    assert load_config(tmp_path)["RATELIMIT_STORAGE_URI"] == "memory://"  # one process: fine


def test_bootstrap_in_production_creates_no_demo_accounts(empty_database):
    app = create_app(production({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database}))
    runner = app.test_cli_runner()
    refused = runner.invoke(args=["lms", "bootstrap", "--demo"])
    assert refused.exit_code != 0 and "--demo is refused when LMS_ENV=production" in refused.output
    done = runner.invoke(args=["lms", "bootstrap"])
    assert done.exit_code == 0, done.output
    assert ADMIN_PASSWORD not in done.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0
        db.session.remove()
        dispose_engines(db.engine)


def test_production_refuses_to_start_while_a_demo_password_signs_in(app, monkeypatch):
    admin = operations.register_user(ADMIN_EMAIL, "Avery Admin", ADMIN_PASSWORD, Role.ADMIN)
    config = production(app.config)
    with pytest.raises(RuntimeError, match=f"{ADMIN_EMAIL} still sign"):
        create_app(config)
    # The `flask` commands still start, so that the operator can change it ...
    monkeypatch.setenv("FLASK_RUN_FROM_CLI", "true")
    cli_app = create_app(config)
    result = cli_app.test_cli_runner().invoke(
        args=["lms", "set-password", "--email", ADMIN_EMAIL], input="a-new-long-secret\na-new-long-secret\n"
    )
    assert result.exit_code == 0, result.output
    monkeypatch.delenv("FLASK_RUN_FROM_CLI")
    # ... and then the site serves.
    assert started(config)
    db.session.refresh(admin)
    assert operations.authenticate(ADMIN_EMAIL, "a-new-long-secret") is not None
    # Development never refuses.
    operations.set_password(None, admin, ADMIN_PASSWORD)
    assert started({**app.config})


def test_demo_accounts_are_refused_by_the_step_itself_in_production(app):
    import click

    from lms.accounts.cli import ensure_demo_accounts

    prod = create_app(production(app.config))
    with prod.app_context(), pytest.raises(click.ClickException, match="never created"):
        ensure_demo_accounts()
    with prod.app_context():
        dispose_engines(db.engine)


def gunicorn_settings(env: dict[str, str]) -> object:
    from gunicorn.config import Config

    spec = importlib.util.spec_from_file_location("gunicorn_conf", PROJECT_ROOT / "gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    old = dict(os.environ)
    os.environ.update(env)
    try:
        spec.loader.exec_module(module)
    finally:
        os.environ.clear()
        os.environ.update(old)
    config = Config()
    for name, value in vars(module).items():
        if name in config.settings:
            config.set(name, value)
    return config


def test_gunicorn_instances_never_share_a_control_socket():
    from gunicorn.config import Config

    if "control_socket_disable" not in Config().settings:
        # gunicorn before 25.1 (our floor is 22) opens no control socket at all: there is nothing to share.
        assert "control_socket" not in Config().settings
        return
    plain = gunicorn_settings({})
    assert plain.control_socket_disable is True  # off unless this instance names its own socket
    own = gunicorn_settings({"GUNICORN_CONTROL_SOCKET": "/run/lms-blue/gunicorn.ctl"})
    assert own.control_socket_disable is False
    assert own.control_socket == "/run/lms-blue/gunicorn.ctl"


LOG_ONCE = """
import logging
from lms import create_app
app = create_app()
app.logger.warning("app-record")
logging.getLogger("lms.access").info("access-record")
logging.getLogger("lms.certificates.tally").warning("feature-record")
"""


def test_each_log_record_is_written_once(tmp_path):
    env = {
        **os.environ,
        "LMS_INSTANCE_PATH": str(tmp_path / "instance"),
        "LMS_ACCESS_LOG": "1",
        "LMS_SECRET_KEY": "test-secret-key-not-for-production",
    }
    env.pop("LMS_ENV", None)
    done = subprocess.run(
        [sys.executable, "-c", LOG_ONCE], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stderr.splitlines()
    for record in ("app-record", "access-record", "feature-record"):
        assert sum(record in line for line in lines) == 1, done.stderr
    assert any("WARNING lms [-] app-record" in line for line in lines)  # our format, with the request id

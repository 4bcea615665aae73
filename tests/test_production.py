"""Running as in production: rate limits shared through Redis by every app server, dead idle database connections
replaced without an error, the health check, settings production refuses to default."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from redis import Redis

from lms import PROJECT_ROOT, create_app
from lms.config import load_config
from lms.database import dispose_engines
from lms.extensions import db
from tests.conftest import PG_URL

REDIS_URL = "redis://127.0.0.1:6379"


# One app server, as its own process: the wrong sign-ins it is told to make, and the statuses it answered.
SERVER = """
import json, sys
from lms import PROJECT_ROOT, create_app
app = create_app({"WTF_CSRF_ENABLED": False})
client = app.test_client()
email, times = sys.argv[1], int(sys.argv[2])
statuses = [client.post("/login", data={"email": email, "password": "not-the-password"}).status_code
            for _ in range(times)]
print(json.dumps(statuses))
"""


def wrong_sign_ins_on_a_server(
    database_url: str, prefix: str, email: str, times: int, tmp_path: Path
) -> list[int]:
    env = {
        **os.environ,
        "LMS_DATABASE_URL": database_url,
        "LMS_INSTANCE_PATH": str(tmp_path / "instance"),
        "LMS_SECRET_KEY": "test-secret-key-not-for-production",
        "LMS_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "LMS_RATELIMIT_ENABLED": "1",
        "LMS_RATELIMIT_STORAGE_URL": REDIS_URL,
        "LMS_RATELIMIT_KEY_PREFIX": prefix,
        "LMS_LOGIN_LIMIT_PER_ACCOUNT": "4 per minute",
        "LMS_LOGIN_LIMIT_PER_ADDRESS": "1000 per minute",
    }
    done = subprocess.run(
        [sys.executable, "-c", SERVER, email, str(times)],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_rate_limits_hold_across_app_servers_through_redis(app, make_user, tmp_path):
    """Two app servers (two processes) on one database and one Redis count sign-in attempts together."""
    prefix = f"lms-test-{secrets.token_hex(8)}"  # this test's own counters: no other run ever sees them
    email = make_user(email=f"limited-{secrets.token_hex(4)}@example.org").email
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    redis = Redis.from_url(REDIS_URL)
    try:
        # Four wrong passwords are allowed per account per minute, wherever they arrive: two on each server ...
        assert wrong_sign_ins_on_a_server(url, prefix, email, 2, tmp_path) == [422, 422]
        assert wrong_sign_ins_on_a_server(url, prefix, email, 3, tmp_path) == [422, 422, 429]
        # ... and from then on the first server refuses too, because both count in Redis.
        assert wrong_sign_ins_on_a_server(url, prefix, email, 1, tmp_path) == [429]
        assert redis.keys(f"*/{prefix}/*"), "the counters live in Redis under the configured prefix"
        # Another account is counted apart.
        other = make_user(email=f"other-{secrets.token_hex(4)}@example.org").email
        assert wrong_sign_ins_on_a_server(url, prefix, other, 1, tmp_path) == [422]
    finally:
        for key in redis.scan_iter(f"*/{prefix}/*"):
            redis.delete(key)
        redis.close()


def test_health_check_reports_the_database(app, client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    broken = create_app(
        {**app.config, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"}
    )
    response = broken.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_a_dropped_idle_connection_is_replaced_without_an_error(app, client, backend):
    """A database restart (or a firewall) drops idle pooled connections: the next request still succeeds."""
    if backend == "sqlite":  # a file never drops a connection: nothing is pinged
        assert _checkout_listeners(db.engine) == []
        assert client.get("/healthz").status_code == 200
        return
    app.config["DATABASE_IDLE_PING_SECONDS"] = 0.2
    idle_app = create_app({**app.config})
    with idle_app.app_context():
        engine = db.engine
        with engine.connect() as conn:
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        killer = sa.create_engine(PG_URL)
        with killer.connect() as conn:
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
        killer.dispose()
        time.sleep(0.4)  # idle longer than DATABASE_IDLE_PING_SECONDS
    response = idle_app.test_client().get("/healthz")
    assert response.status_code == 200, response.get_json()
    with idle_app.app_context():
        dispose_engines(db.engine)


def _checkout_listeners(engine: Any) -> list[Any]:
    return list(getattr(engine.pool.dispatch, "checkout", []))


def test_production_refuses_to_start_without_a_secret_key(monkeypatch, tmp_path):
    monkeypatch.setenv("LMS_ENV", "production")
    monkeypatch.delenv("LMS_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="LMS_SECRET_KEY"):
        load_config(tmp_path)
    monkeypatch.setenv("LMS_SECRET_KEY", "a-long-random-secret")
    monkeypatch.setenv("LMS_RATELIMIT_STORAGE_URL", REDIS_URL)
    config = load_config(tmp_path)
    assert config["SESSION_COOKIE_SECURE"] and config["ACCESS_LOG"]
    assert config["RATELIMIT_STORAGE_URI"] == REDIS_URL

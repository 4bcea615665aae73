"""App "hosts" for tests across processes: a real gunicorn master per host (own instance folder, own loopback port)
on a database, Redis and upload folder shared with the test, and a browser-like HTTP client (cookies, CSRF tokens
read from the pages) that can talk to any host. Used by tests/test_two_hosts.py and tests/test_content_triggers.py.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SECRET = "two-hosts-secret-key-for-tests-only"  # one secret on every host signs the sessions
CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')
CSRF_INPUT = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|type="hidden" name="csrf_token" value="([^"]+)"'
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Host:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def host_env(database_url: str, workdir: Path, name: str, **settings: str) -> dict[str, str]:
    """The settings of one host: its own instance folder; everything else the same on every host."""
    instance = workdir / f"instance-{name}"
    instance.mkdir(parents=True, exist_ok=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LMS_", "GUNICORN_", "FLASK_")) and key != "PYTEST_XDIST_WORKER"
    }
    env.update(
        {
            "LMS_DATABASE_URL": database_url,
            "LMS_SECRET_KEY": SECRET,
            "LMS_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "LMS_INSTANCE_PATH": str(instance),
            "LMS_UPLOAD_DIR": str(workdir / "uploads"),
            "LMS_JOBS_RUNNER": "manual",
            "LMS_RATELIMIT_ENABLED": "0",
            "LMS_SESSION_IDLE_MINUTES": "0",
            "LMS_SESSION_ABSOLUTE_HOURS": "0",
            "GUNICORN_ACCESSLOG": "/dev/null",
        }
    )
    env.update(settings)
    return env


def start_host(name: str, env: dict[str, str], workers: int | None = 1) -> Host:
    """A gunicorn master with the repository's gunicorn.conf.py; `workers` None keeps its default (2 x cores + 1)."""
    port = free_port()
    log = Path(env["LMS_INSTANCE_PATH"]) / "gunicorn.log"
    command = [str(Path(sys.executable).with_name("gunicorn")), "-c", str(PROJECT_ROOT / "gunicorn.conf.py"),
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]  # fmt: skip
    if workers:
        command += ["--workers", str(workers)]
    command.append("wsgi:app")
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Host(name, port, process, log)


def wait_ready(*hosts: Host, timeout: float = 40) -> None:
    deadline = time.monotonic() + timeout
    for host in hosts:
        while True:
            if host.process.poll() is not None:
                raise RuntimeError(f"host {host.name} exited:\n{host.log_text()[-3000:]}")
            conn = http.client.HTTPConnection("127.0.0.1", host.port, timeout=2)
            try:
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            finally:
                conn.close()
            if time.monotonic() > deadline:
                raise RuntimeError(f"host {host.name} did not come up:\n{host.log_text()[-3000:]}")
            time.sleep(0.1)


def stop(*hosts: Host) -> None:
    for host in hosts:
        if host.process.poll() is None:
            host.process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown
    for host in hosts:
        try:
            host.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            host.process.kill()
            host.process.wait()


@contextmanager
def running_hosts(envs: dict[str, dict[str, str]], workers: int | None = 1) -> Iterator[dict[str, Host]]:
    hosts = {name: start_host(name, env, workers) for name, env in envs.items()}
    try:
        wait_ready(*hosts.values())
        yield hosts
    finally:
        stop(*hosts.values())


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


@dataclass
class Visitor:
    """One browser: its cookies go to every host (cookies name no port), as a browser's do behind a balancer."""

    cookies: dict[str, str] = field(default_factory=dict)
    address: str | None = None  # sent as X-Forwarded-For (hosts started with LMS_TRUSTED_PROXIES=1 use it)

    def request(self, host: Host, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Response:  # fmt: skip
        headers = dict(headers or {})
        if self.address:
            headers["X-Forwarded-For"] = self.address
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", host.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            raw = conn.getresponse()
            data = raw.read()
        finally:
            conn.close()
        for value in raw.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(value)
            for key, morsel in cookie.items():
                if morsel["max-age"] == "0" or (morsel["expires"] and "1970" in morsel["expires"]):
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = morsel.value
        return Response(raw.status, {k.lower(): v for k, v in raw.getheaders()}, data)

    def get(self, host: Host, path: str) -> Response:
        return self.request(host, "GET", path)

    def post_form(self, host: Host, path: str, fields: dict[str, str], token_from: str | None = None,
                  token_host: Host | None = None) -> Response:  # fmt: skip
        """POST a form with the CSRF token of the page at `token_from` (read through `token_host`, by default the
        same host)."""
        page = self.get(token_host or host, token_from or path)
        assert page.status == 200, f"GET {token_from or path}: {page.status}"
        body = urllib.parse.urlencode({**fields, "csrf_token": form_token(page.text)}).encode()
        return self.request(host, "POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def post_json(self, host: Host, path: str, payload: Any, csrf: str) -> Response:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf}
        return self.request(host, "POST", path, body, headers)

    def sign_in(self, host: Host, email: str, password: str) -> None:
        response = self.post_form(host, "/login", {"email": email, "password": password})
        assert response.status == 302, f"sign-in on {host.name} failed ({response.status})"


def form_token(html: str) -> str:
    match = CSRF_INPUT.search(html) or CSRF_META.search(html)
    if not match:
        raise AssertionError("no CSRF token in the page")
    return next(group for group in match.groups() if group)

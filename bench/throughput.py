"""Throughput against the bare-Flask limit: the real app and a "hello" app, same gunicorn settings, loaded by wrk.

Serves the app (`wsgi:app`) and bench/hello_app.py with gunicorn.conf.py (workers from the CPU count), prepares
its own data on a fresh instance (the bootstrap, then bench/prepare.py using the app's own operations), and loads
each page with wrk at 8, 32 and 128 connections. Each page is loaded right after a hello run of its own, and its
ratio is to that run, so both saw the same machine (a shared virtual machine's speed drifts from minute to
minute); the hello line shows the mean of those runs. Rate limits are OFF (LMS_RATELIMIT_ENABLED=0): every request comes from
one address. Run by hand:

    .venv/bin/python bench/throughput.py --database sqlite
    .venv/bin/python bench/throughput.py --database postgresql --json throughput-pg.json

PostgreSQL: a database of its own (lms_bench_<random>) is created on --pg-server and dropped afterwards.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

DEFAULT_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
CONNECTIONS = (8, 32, 128)
CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')
CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
SECRET = secrets.token_urlsafe(32)

# wrk's report, as one JSON line from the Lua done() hook (wrk's own text rounds the percentiles).
LUA_REPORT = """
done = function(summary, latency, requests)
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,'
    .. '"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\\n',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read, summary.errors.write,
    summary.errors.status, summary.errors.timeout, latency:percentile(50), latency:percentile(99), latency.mean))
end
"""
LUA_GET = """
wrk.method = "GET"
{headers}
"""
# The autosaves of a cohort: each request is the next student's (cookie, CSRF token, attempt) in turn, each save
# with a new sequence number (per wrk thread: no two threads send the same one), as quiz.js sends them.
LUA_AUTOSAVE = """
local students = {{
{students}
}}
local counter = 0
local threads = 0
setup = function(thread)
  thread:set("offset", threads * 100000000)
  threads = threads + 1
end
request = function()
  counter = counter + 1
  local s = students[(counter % #students) + 1]
  local body = string.format('{{"question":"%s","value":"%s","seq":%d}}', s.question, s.value, offset + counter)
  return wrk.format("POST", s.path, {{
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
    ["X-CSRFToken"] = s.csrf,
    ["Cookie"] = s.cookie,
  }}, body)
end
"""


# -- small HTTP client with cookies (sign in once, read the CSRF token) ------------------------------------------


class Browser:
    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
                ) -> tuple[int, dict[str, str], str]:  # fmt: skip
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = self.cookie_header()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read().decode("utf-8", errors="replace")
        finally:
            conn.close()
        for value in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(value)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        return response.status, dict(response.headers), data

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def sign_in(self, email: str, password: str) -> None:
        _, _, page = self.request("GET", "/login")
        match = CSRF_INPUT.search(page)
        assert match, "no CSRF token on the sign-in page"
        body = urllib.parse.urlencode(
            {"email": email, "password": password, "csrf_token": match.group(1) or match.group(2)}
        ).encode()
        status, _, _ = self.request(
            "POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert status == 302, f"sign-in as {email} failed ({status})"


# -- the database and the data ---------------------------------------------------------------------------------


@dataclass
class Instance:
    workdir: Path
    env: dict[str, str]
    drop: Any


def make_instance(database: str, pg_server: str) -> Instance:
    workdir = Path(tempfile.mkdtemp(prefix=f"throughput-{database}-"))
    (workdir / "instance").mkdir()
    env = {
        **os.environ,
        "LMS_INSTANCE_PATH": str(workdir / "instance"),
        "LMS_UPLOAD_DIR": str(workdir / "uploads"),
        "LMS_SECRET_KEY": SECRET,
        "LMS_RATELIMIT_ENABLED": "0",
        "LMS_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # only the prepared accounts; nothing timed signs in
        "LMS_BASE_URL": "http://127.0.0.1",
        "PYTHONPATH": str(ROOT),
    }
    drop: Any = lambda: None  # noqa: E731
    if database == "postgresql":
        name = f"lms_bench_{secrets.token_hex(4)}"
        server = sa.make_url(pg_server)
        admin = sa.create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

        def drop() -> None:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

        env["LMS_DATABASE_URL"] = server.set(database=name).render_as_string(hide_password=False)
    return Instance(workdir, env, drop)


def flask(instance: Instance, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi", *args]
    return subprocess.run(command, cwd=ROOT, env=instance.env, capture_output=True, text=True, check=False)


def build_schema(instance: Instance) -> str:
    """`lms bootstrap` (migrations, content, demo accounts). While the migrations do not yet cover every model,
    the schema comes from the models (create_all), stamped as migrated, and the bootstrap then does the rest."""
    done = flask(instance, "lms", "bootstrap")
    if done.returncode == 0:
        return "migrations"
    code = (
        "from lms import create_app\nfrom lms.extensions import db\n"
        "app = create_app()\nwith app.app_context():\n    db.drop_all()\n    db.create_all()\n"
        "    db.session.execute(db.text('DROP TABLE IF EXISTS alembic_version'))\n    db.session.commit()\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=instance.env, check=True)
    stamped = flask(instance, "db", "stamp", "head")
    again = flask(instance, "lms", "bootstrap")
    if stamped.returncode or again.returncode:
        raise RuntimeError(f"bootstrap failed:\n{done.stderr[-2000:]}\n{again.stderr[-2000:]}")
    return "create_all (the migrations do not cover every model yet), then bootstrap"


def prepare(instance: Instance, students: int, quiz_takers: int = 16) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "prepare.py"), "--students", str(students),
         "--quiz-takers", str(quiz_takers)],
        cwd=ROOT, env=instance.env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if out.returncode:
        raise RuntimeError(f"prepare failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- servers ---------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_gunicorn(instance: Instance, target: str, name: str) -> tuple[subprocess.Popen[bytes], int]:
    """gunicorn with the repository's gunicorn.conf.py, only the address changed."""
    port = free_port()
    env = {**instance.env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    log = (instance.workdir / f"{name}.log").open("w")
    process = subprocess.Popen(
        [gunicorn, "-c", str(ROOT / "gunicorn.conf.py"), target],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            conn.getresponse().read()
            return process, port
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"gunicorn ({target}) did not start; see {instance.workdir / (name + '.log')}")


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Stop the gunicorn masters: all asked at once, each killed if it has not stopped within 30 s."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def worker_count(instance: Instance) -> int:
    code = "import runpy; print(runpy.run_path('gunicorn.conf.py')['workers'])"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=instance.env, capture_output=True, text=True
    )
    return int(out.stdout.strip())


# -- targets ---------------------------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    port: int
    path: str
    lua: str  # the wrk script (without the report)


def targets(hello_port: int, app_port: int, data: dict[str, Any]) -> list[Target]:
    student, instructor = Browser(app_port), Browser(app_port)
    student.sign_in(data["student"], data["student_password"])
    instructor.sign_in(data["instructor"], data["instructor_password"])
    # Each opens its page once first, as a browser does: the first page after signing in stores the session's
    # CSRF token and sends a new cookie, which a browser keeps (wrk replays the cookie it is given).
    student.request("GET", data["lesson_path"])
    instructor.request("GET", "/grading")
    takers = []
    for attempt in data["attempts"]:
        taker = student if attempt["email"] == data["student"] else Browser(app_port)
        if taker is not student:
            taker.sign_in(attempt["email"], data["student_password"])
        path = f"/quizzes/attempts/{attempt['attempt_id']}"
        status, _, page = taker.request("GET", path)
        assert status == 200, f"the attempt page answered {status}"
        csrf = CSRF_META.search(page)
        assert csrf, "no CSRF token on the attempt page"
        takers.append((taker, csrf.group(1), attempt, f"{path}/answers"))

    def get(cookie: str = "") -> str:
        return LUA_GET.format(headers=f'wrk.headers["Cookie"] = "{cookie}"' if cookie else "")

    rows = ",\n".join(
        f'  {{path="{path}", csrf="{csrf}", cookie="{taker.cookie_header()}", question="{a["question"]}", '
        f'value="{a["value"]}"}}'
        for taker, csrf, a, path in takers
    )
    found = [
        Target("hello", hello_port, "/", get()),
        Target("verify page", app_port, f"/verify/{data['certificate']}", get()),
        Target("lesson page", app_port, data["lesson_path"], get(student.cookie_header())),
        Target("quiz autosave", app_port, takers[0][3], LUA_AUTOSAVE.format(students=rows)),
        Target("grading queue", app_port, "/grading", get(instructor.cookie_header())),
    ]
    _check(found, data, student, instructor, takers)
    return found


def _check(found: list[Target], data: dict[str, Any], student: Browser, instructor: Browser, takers: list[Any]
           ) -> None:  # fmt: skip
    """Each target answers what a browser would see before anything is timed (wrk checks only the status)."""
    hello = Browser(found[0].port).request("GET", "/")
    assert hello[0] == 200 and "Hello" in hello[2]
    verify = Browser(found[1].port).request("GET", found[1].path)
    assert verify[0] == 200 and "Bench Student 0" in verify[2], verify[0]
    lesson = student.request("GET", data["lesson_path"])
    assert lesson[0] == 200 and data["lesson_title"] in lesson[2], lesson[0]
    for taker, csrf, attempt, path in takers:
        body = json.dumps({"question": attempt["question"], "value": attempt["value"], "seq": 1}).encode()
        saved = taker.request(
            "POST", path, body,
            {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf},
        )  # fmt: skip
        assert saved[0] == 200 and json.loads(saved[2]).get("ok") is True, saved
    queue = instructor.request("GET", "/grading")
    # the Strategist handbook is marked blind: the queue names submissions, not students, until release
    assert queue[0] == 200 and "Submission" in queue[2] and "Bench Student" not in queue[2], queue[0]


def measure(target: Target, connections: int, duration: int, workdir: Path) -> dict[str, Any]:
    run_wrk(target, connections, 2, workdir)  # warm up (workers, caches, pools)
    return run_wrk(target, connections, duration, workdir)


def run_wrk(target: Target, connections: int, duration: int, workdir: Path) -> dict[str, Any]:
    script = workdir / (re.sub(r"\W+", "-", target.name) + ".lua")
    script.write_text(target.lua + LUA_REPORT)
    threads = min(2, connections)
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration}s", "--timeout", "10s",
               "-s", str(script), f"http://127.0.0.1:{target.port}{target.path}"]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("BENCHJSON "))
    raw = json.loads(line.removeprefix("BENCHJSON "))
    errors = raw["connect"] + raw["read"] + raw["write"] + raw["status"] + raw["timeout"]
    return {
        "rps": round(raw["requests"] / (raw["duration_us"] / 1e6), 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "requests": raw["requests"],
        "errors": errors,
        "non_2xx": raw["status"],
    }


# -- the run ---------------------------------------------------------------------------------------------------


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def run(args: argparse.Namespace) -> dict[str, Any]:
    instance = make_instance(args.database, args.pg_server)
    processes: list[subprocess.Popen[bytes]] = []
    try:
        print(f"-- {args.database}: preparing a fresh instance in {instance.workdir} ...", flush=True)
        schema = build_schema(instance)
        data = prepare(instance, args.students, args.quiz_takers)
        hello, hello_port = start_gunicorn(instance, "bench.hello_app:app", "hello")
        app, app_port = start_gunicorn(instance, "wsgi:app", "app")
        processes += [hello, app]
        found = targets(hello_port, app_port, data)
        workers = worker_count(instance)
        print(
            f"-- gunicorn.conf.py: {workers} sync workers on {os.cpu_count()} CPUs; wrk for {args.duration}s per run;"
            f" rate limits OFF (LMS_RATELIMIT_ENABLED=0); schema: {schema}; load average {load_average()}",
            flush=True,
        )
        hello_target, pages = found[0], [t for t in found[1:] if not args.only or t.name in args.only]
        found = [hello_target, *pages]
        results: dict[str, dict[str, Any]] = {t.name: {} for t in found}
        for connections in args.connections:
            # Each page right after a hello run of its own: the machine's speed drifts (a shared virtual machine),
            # and a ratio is only fair between two runs that saw the same machine.
            hellos = []
            for target in pages:
                hello = measure(hello_target, connections, args.duration, instance.workdir)
                row = measure(target, connections, args.duration, instance.workdir)
                row["hello_rps"] = hello["rps"]
                row["ratio"] = round(row["rps"] / hello["rps"], 3) if hello["rps"] else None
                results[target.name][str(connections)] = row
                hellos.append(hello)
            middle = sorted(hellos, key=lambda h: h["rps"])[len(hellos) // 2]
            results["hello"][str(connections)] = {
                **middle,  # p50 and p99 of the median run
                "rps": round(sum(h["rps"] for h in hellos) / len(hellos), 1),
                "ratio": 1.0,
                "runs": [h["rps"] for h in hellos],
            }
            print_level(found, results, connections)
        return {
            "database": args.database,
            "workers": workers,
            "cpus": os.cpu_count(),
            "duration_s": args.duration,
            "rate_limits": "off (LMS_RATELIMIT_ENABLED=0)",
            "schema": schema,
            "load_average_after": load_average(),
            "data": {
                "submissions": data["submissions"],
                "certificates": data["certificates"],
                "quiz_takers": len(data["attempts"]),
            },
            "paths": {t.name: t.path for t in found},
            "results": results,
        }
    finally:
        stop(processes)
        instance.drop()
        for name in ("app", "hello"):
            log = instance.workdir / f"{name}.log"
            if log.exists():
                shutil.copyfile(log, Path(tempfile.gettempdir()) / f"throughput-{args.database}-{name}.log")
        shutil.rmtree(instance.workdir, ignore_errors=True)


def print_level(found: list[Target], results: dict[str, dict[str, Any]], connections: int) -> None:
    print(f"\n{connections} connections (load average {load_average()})")
    print(
        f"  {'target':<16}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'x hello':>10}{'its hello':>11}{'errors':>8}"
    )
    for target in found:
        row = results[target.name][str(connections)]
        own = f"{row['hello_rps']:.1f}" if "hello_rps" in row else "(mean)"
        print(
            f"  {target.name:<16}{row['rps']:>10.1f}{row['p50_ms']:>10.2f}{row['p99_ms']:>10.2f}"
            f"{row['ratio']:>10.3f}{own:>11}{row['errors']:>8}",
            flush=True,
        )


GOALS = [  # (target, connections or None for every level, database, minimum ratio)
    ("verify page", None, "sqlite", 0.30),
    ("verify page", None, "postgresql", 0.20),
    ("lesson page", None, "sqlite", 0.30),
    ("lesson page", None, "postgresql", 0.20),
    ("quiz autosave", 32, "postgresql", 0.16),
]


def print_goals(result: dict[str, Any]) -> None:
    print("\nGoals (ratio to hello):")
    for target, connections, database, minimum in GOALS:
        if database != result["database"]:
            continue
        for level, row in result["results"].get(target, {}).items():
            if connections is not None and int(level) != connections:
                continue
            verdict = "met" if row["ratio"] >= minimum else "MISSED"
            print(
                f"  {target:<14} at {level:>3} connections: {row['ratio']:.3f} (goal >= {minimum:.2f}) {verdict}"
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-server", default=os.environ.get("LMS_BENCH_PG_SERVER", DEFAULT_PG_SERVER))
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument(
        "--connections", type=lambda s: [int(x) for x in s.split(",")], default=list(CONNECTIONS)
    )
    parser.add_argument(
        "--students", type=int, default=40, help="students with a submission and a certificate"
    )
    parser.add_argument("--quiz-takers", type=int, default=16, help="students whose autosaves take turns")
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--scale", action="store_true", help="PostgreSQL, seeded by bench/seed_scale.py")
    parser.add_argument("--scale-size", type=float, default=1.0, help="with --scale: seed_scale's --scale")
    parser.add_argument("--seeded-url", help="with --scale: a database seed_scale already filled (kept)")
    parser.add_argument(
        "--only",
        action="append",
        help='load only this page (repeatable; e.g. --only "quiz autosave"), with hello',
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (Debian: apt-get install wrk)", file=sys.stderr)
        return 2
    if args.scale:
        import throughput_scale  # bench/, beside this file

        scaled = throughput_scale.run(args)
        throughput_scale.print_goals(scaled)
        if args.json:
            args.json.write_text(json.dumps(scaled, indent=2) + "\n")
        return 0
    result = run(args)
    print_goals(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

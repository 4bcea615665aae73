"""Deadline storm: N students save their answers and submit in the same few seconds before a quiz deadline.

Runs the real app under gunicorn (on PostgreSQL and on SQLite), drives it over HTTP like browsers would (sign in,
start, autosave JSON with the CSRF header, submit), then counts from the database how many acknowledged answers
were stored and scored. Run by hand:

    .venv/bin/python bench/deadline_storm.py                       # both backends, 300 students
    .venv/bin/python bench/deadline_storm.py --backend postgresql --students 300 --json storm.json

PostgreSQL comes from LMS_BENCH_DATABASE_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test); the run
works in a schema of its own and drops it afterwards.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PASSWORD = "storm-password-123"  # noqa: S105  (throwaway accounts in a throwaway database)
TRACK = "storm-track"
QUIZ = "storm-quiz"
CSRF_META = re.compile(r'name="csrf-token" content="([^"]+)"')
CSRF_INPUT = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|type="hidden" name="csrf_token" value="([^"]+)"'
)

QUIZ_TOML = """\
title = "Storm quiz"
track = "storm-track"
module = "storm-module"
kind = "module"
time_limit_minutes = 30
attempts_allowed = 1
pass_percent = 50
grading = "highest"
shuffle_questions = true
shuffle_choices = true
draw = {n}
review = "score_only"
review_after = "submit"
on_expiry = "auto_submit"
grace_seconds = 0
"""
QUESTION = """
[[questions]]
id = "q{i}"
type = "single"
points = 1
prompt = "Question {i}?"

[[questions.choices]]
text = "Right"
correct = true

[[questions.choices]]
text = "Wrong"
correct = false
"""


# -- a tiny HTTP client with cookies, one keep-alive connection per student ------------------------------------


class Browser:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
                ) -> tuple[int, dict[str, str], bytes]:  # fmt: skip
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        for value in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(value)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        # Names as a browser reads them, whatever their case on the wire (HAProxy sends them in lower case).
        return response.status, {name.title(): value for name, value in response.getheaders()}, data

    def get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path)

    def post_form(self, path: str, fields: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        body = urllib.parse.urlencode(fields).encode()
        return self.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def post_json(self, path: str, payload: Any, csrf: str) -> tuple[int, dict[str, str], bytes]:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf}
        return self.request("POST", path, body, headers)


def form_token(html: bytes) -> str:
    match = CSRF_INPUT.search(html.decode())
    if not match:
        raise RuntimeError("no CSRF token in the page")
    return match.group(1) or match.group(2)


# -- the database ----------------------------------------------------------------------------------------------


@dataclass
class Database:
    backend: str
    url: str
    cleanup: Any


def make_database(backend: str, workdir: Path, pg_url: str) -> Database:
    if backend == "sqlite":
        return Database(backend, f"sqlite:///{workdir / 'storm.sqlite3'}", lambda: None)
    schema = f"storm_{secrets.token_hex(4)}"
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = sa.make_url(pg_url).update_query_dict({"options": f"-csearch_path={schema}"})

    def drop() -> None:
        engine = sa.create_engine(pg_url)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()

    return Database(backend, url.render_as_string(hide_password=False), drop)


def seed(database: Database, workdir: Path, students: int, questions: int) -> list[str]:
    """Schema, one track with a module, the quiz (through the real loader), enrolled students."""
    from lms import create_app
    from lms.accounts.models import User
    from lms.accounts.passwords import hash_password
    from lms.content import ContentSet
    from lms.courses.models import Enrollment, Module, Track
    from lms.courses.spec import ModuleSpec, TrackSpec
    from lms.extensions import db
    from lms.quizzes import loader

    app = create_app(app_config(database, workdir))
    quizzes_dir = workdir / "quizzes"
    quizzes_dir.mkdir()
    text = QUIZ_TOML.format(n=questions) + "".join(QUESTION.format(i=i) for i in range(1, questions + 1))
    (quizzes_dir / f"{QUIZ}.toml").write_text(text)
    with app.app_context():
        db.create_all()
        track = Track(slug=TRACK, title="Storm", summary="", certifies="", validity_months=12, completion={},
                      source_hash="bench")  # fmt: skip
        db.session.add(track)
        db.session.flush()
        db.session.add(Module(track_id=track.id, slug="storm-module", title="Storm", source_hash="bench"))
        db.session.flush()
        content = ContentSet(courses_dir=workdir / "courses", quizzes_dir=quizzes_dir)
        content.parsed["courses"] = {
            TRACK: TrackSpec(slug=TRACK, path=workdir / "track.toml", title="Storm", summary="", certifies="",
                             validity_months=12, unlock="free", program_weeks=None, completion={},
                             modules=[ModuleSpec("storm-module", "Storm", "", None, 0)])
        }  # fmt: skip
        loader.check(content)
        assert not content.problems, content.problems
        loader.sync(content)
        password_hash = hash_password(PASSWORD)
        emails = [f"student{i}@storm.example" for i in range(students)]
        users = [User(email=e, full_name=f"Storm Student {i}", password_hash=password_hash, role="student")
                 for i, e in enumerate(emails)]  # fmt: skip
        db.session.add_all(users)
        db.session.flush()
        db.session.add_all(Enrollment(user_id=u.id, track_id=track.id) for u in users)
        db.session.commit()
        db.engine.dispose()
    return emails


def app_config(database: Database, workdir: Path) -> dict[str, Any]:
    return {
        "SQLALCHEMY_DATABASE_URI": database.url,
        "SECRET_KEY": "storm-secret",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "RATELIMIT_ENABLED": False,
        "UPLOAD_DIR": str(workdir / "uploads"),
    }


# -- the server ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_env(database: Database, workdir: Path) -> dict[str, str]:
    """The app's settings for a storm: one secret for every server (sessions survive a restart), no rate limits."""
    return {
        **os.environ,
        "LMS_DATABASE_URL": database.url,
        "LMS_SECRET_KEY": "storm-secret",
        "LMS_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "LMS_RATELIMIT_ENABLED": "0",
        "LMS_INSTANCE_PATH": str(workdir / "instance"),
        "LMS_UPLOAD_DIR": str(workdir / "uploads"),
    }


def gunicorn_command(port: int, workers: int | None, threads: int | None, *extra: str) -> list[str]:
    """gunicorn with the repository's gunicorn.conf.py, as in production; only the address and any override change.

    The production settings (sync workers, 2 x cores + 1) are the ones measured: threaded workers queue requests
    behind the GIL, and a storm run with 3 workers x 8 threads had several times the p99 of the sync workers.
    """
    command = [str(Path(sys.executable).with_name("gunicorn")), "-c", str(ROOT / "gunicorn.conf.py"),
               "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]  # fmt: skip
    if workers:
        command += ["--workers", str(workers)]
    if threads:
        command += ["--threads", str(threads)]  # above 1, gunicorn uses threaded workers
    return [*command, *extra, "wsgi:app"]


def start_gunicorn(
    database: Database, workdir: Path, port: int, workers: int | None, threads: int | None
) -> subprocess.Popen:
    env = server_env(database, workdir)
    command = gunicorn_command(port, workers, threads)
    log = (workdir / "gunicorn.log").open("w")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("gunicorn did not start")


# -- the students ----------------------------------------------------------------------------------------------


@dataclass
class Student:
    email: str
    browser: Browser
    attempt_id: int = 0
    csrf: str = ""
    questions: list[str] = field(default_factory=list)
    acknowledged: list[tuple[str, int, str]] = field(default_factory=list)  # (question, seq, value)
    latencies: list[float] = field(default_factory=list)
    submit_latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    saves: int = 0


def prepare(student: Student) -> None:
    """Sign in, start the attempt and load its page (not timed)."""
    b = student.browser
    _, _, page = b.get("/login")
    status, _, _ = b.post_form(
        "/login", {"email": student.email, "password": PASSWORD, "csrf_token": form_token(page)}
    )
    assert status == 302, f"sign-in failed ({status})"
    _, _, page = b.get(f"/quizzes/{QUIZ}")
    status, headers, _ = b.post_form(f"/quizzes/{QUIZ}/start", {"csrf_token": form_token(page)})
    location = headers.get("Location", "")
    assert status == 302 and "/quizzes/attempts/" in location, f"start failed ({status} {location})"
    student.attempt_id = int(location.rstrip("/").rsplit("/", 1)[1])
    _, _, page = b.get(f"/quizzes/attempts/{student.attempt_id}")
    html = page.decode()
    student.csrf = CSRF_META.search(html).group(1)  # type: ignore[union-attr]
    student.questions = re.findall(r'data-question="([^"]+)"', html)


def answer_early(student: Student, storm_saves: int) -> None:
    """The answers given during the attempt, before the storm (acknowledged, counted, not timed)."""
    early = max(0, len(student.questions) - max(1, storm_saves - 1))
    for question in student.questions[:early]:
        status, _, body = student.browser.post_json(
            f"/quizzes/attempts/{student.attempt_id}/answers",
            {"question": question, "value": "c1", "seq": 1, "given_at_ms": int(time.time() * 1000)},
            student.csrf,
        )
        student.saves += 1
        if status == 200 and json.loads(body).get("ok"):
            student.acknowledged.append((question, 1, "c1"))
    student.questions = student.questions[early:]


def storm(student: Student, start_at: float, think: float, storm_saves: int) -> None:
    """Give the last answers (changing one of them), then submit; every request timed."""
    time.sleep(max(0.0, start_at - time.monotonic()))
    plan = [(q, "c1", 1) for q in student.questions]
    plan.append((student.questions[0], "c2", 2))  # a changed answer: the newer sequence number must win
    plan = plan[-storm_saves:]
    for question, value, seq in plan:
        started = time.perf_counter()
        try:
            status, _, body = student.browser.post_json(
                f"/quizzes/attempts/{student.attempt_id}/answers",
                {"question": question, "value": value, "seq": seq, "given_at_ms": int(time.time() * 1000)},
                student.csrf,
            )
        except OSError:
            status, body = 599, b"{}"
        student.latencies.append((time.perf_counter() - started) * 1000)
        student.statuses.append(status)
        student.saves += 1
        if status == 200 and json.loads(body).get("ok"):
            student.acknowledged.append((question, seq, value))
        time.sleep(think)
    started = time.perf_counter()
    try:
        status, _, _ = student.browser.post_json(
            f"/quizzes/attempts/{student.attempt_id}/submit", {}, student.csrf
        )
    except OSError:
        status = 599
    elapsed = (time.perf_counter() - started) * 1000
    student.latencies.append(elapsed)
    student.submit_latencies.append(elapsed)
    student.statuses.append(status)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(ordered: list[float], fraction: float) -> float:
    """The value below which `fraction` of the (sorted) values lie, nearest rank."""
    return round(ordered[min(len(ordered) - 1, int(len(ordered) * fraction))], 1) if ordered else 0.0


def count_in_database(database: Database, workdir: Path, students: list[Student]) -> dict[str, int]:
    from lms import create_app
    from lms.extensions import db
    from lms.quizzes.models import AnswerSave, Attempt

    app = create_app(app_config(database, workdir))
    with app.app_context():
        rows = db.session.execute(
            sa.select(AnswerSave.attempt_id, AnswerSave.question_id, AnswerSave.seq)
        ).all()
        stored_keys = {(r.attempt_id, r.question_id, r.seq) for r in rows}
        attempts = {a.id: a for a in db.session.execute(sa.select(Attempt)).scalars()}
        stored = lost = unscored_attempts = 0
        for student in students:
            attempt = attempts[student.attempt_id]
            newest: dict[str, tuple[int, str]] = {}
            for question, seq, value in student.acknowledged:
                if (student.attempt_id, question, seq) in stored_keys:
                    stored += 1
                else:
                    lost += 1
                if question not in newest or seq > newest[question][0]:
                    newest[question] = (seq, value)
            if attempt.state != "submitted":
                unscored_attempts += 1
                lost += len(newest)
                continue
            for question, (_, value) in newest.items():
                if attempt.results[question]["answer"] != value:
                    lost += 1  # acknowledged, but not what was scored
        db.engine.dispose()
    return {"stored": stored, "lost_answers": lost, "unsubmitted": unscored_attempts}


def move_deadlines(database: Database, workdir: Path, from_now: timedelta) -> None:
    """Put every attempt's deadline `from_now` ahead, as if the students had started minutes ago."""
    from lms import create_app
    from lms.clock import now_utc
    from lms.extensions import db
    from lms.quizzes.models import Attempt

    app = create_app(app_config(database, workdir))
    with app.app_context():
        db.session.execute(sa.update(Attempt).values(deadline=now_utc() + from_now))
        db.session.commit()
        db.engine.dispose()


def run(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"storm-{backend}-"))
    database = make_database(backend, workdir, args.pg_url)
    process = None
    try:
        emails = seed(database, workdir, args.students, args.questions)
        port = free_port()
        process = start_gunicorn(database, workdir, port, args.workers, args.threads)
        students = [Student(email, Browser("127.0.0.1", port)) for email in emails]
        _in_threads(students, prepare, args.concurrency)
        _in_threads(students, lambda s: answer_early(s, args.storm_saves), args.concurrency)

        # Everyone started minutes ago; the deadline is now a few seconds away, and the storm arrives before it.
        move_deadlines(database, workdir, timedelta(seconds=args.window + 5))

        begin = time.monotonic() + 0.5
        think = 0.05
        threads = [
            threading.Thread(
                target=storm, args=(s, begin + random.uniform(0, args.window), think, args.storm_saves)
            )
            for s in students
        ]
        wall_start, client_start = time.monotonic(), _cpu_seconds()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - wall_start
        client_cpu = _cpu_seconds() - client_start

        counted = count_in_database(database, workdir, students)
        latencies = sorted(ms for s in students for ms in s.latencies)
        statuses = [code for s in students for code in s.statuses]
        acknowledged = sum(len(s.acknowledged) for s in students)
        return {
            "backend": backend,
            "students": len(students),
            "saves": sum(s.saves for s in students),
            "acknowledged": acknowledged,
            "stored": counted["stored"],
            "lost_answers": counted["lost_answers"],
            "unsubmitted": counted["unsubmitted"],
            "errors_5xx": sum(1 for code in statuses if code >= 500),
            "refused_4xx": sum(1 for code in statuses if 400 <= code < 500),
            "p50_ms": round(statistics.median(latencies), 1),
            "p99_ms": percentile(latencies, 0.99),
            "p99_submit_ms": percentile(sorted(ms for s in students for ms in s.submit_latencies), 0.99),
            "saves_per_s": round(acknowledged / max(wall, 1e-6), 1),
            "storm_s": round(wall, 2),
            # This process's own CPU during the storm: the simulated students share the cores with the server.
            "client_cpu_s": round(client_cpu, 2),
            "window_s": args.window,
            "statuses": dict(sorted(Counter(statuses).items())),
        }
    finally:
        if process is not None:
            process.terminate()
            process.wait(timeout=30)
        database.cleanup()
        log = workdir / "gunicorn.log"
        if log.exists():
            kept = Path(tempfile.gettempdir()) / f"deadline-storm-{backend}-gunicorn.log"
            shutil.copyfile(log, kept)
        shutil.rmtree(workdir, ignore_errors=True)


def _in_threads(students: list[Student], job: Any, concurrency: int) -> None:
    queue = list(students)
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                student = queue.pop()
            job(student)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


COLUMNS = ["students", "saves", "acknowledged", "stored", "lost_answers", "errors_5xx", "refused_4xx", "p50_ms",
           "p99_ms", "p99_submit_ms", "saves_per_s", "storm_s", "client_cpu_s"]  # fmt: skip


def print_table(results: list[dict[str, Any]]) -> None:
    width = max(len(c) for c in COLUMNS) + 2
    print("".join(["backend".ljust(width), *(str(r["backend"]).rjust(14) for r in results)]))
    for column in COLUMNS:
        print("".join([column.ljust(width), *(str(r[column]).rjust(14) for r in results)]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--backend", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("LMS_BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--questions", type=int, default=6, help="questions per attempt, each answered once")
    parser.add_argument(
        "--storm-saves",
        type=int,
        default=3,
        help="saves per student inside the storm: the last answers and one changed answer",
    )
    parser.add_argument("--window", type=float, default=5.0, help="seconds over which the students arrive")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: gunicorn.conf.py's)")
    parser.add_argument("--concurrency", type=int, default=16, help="parallel sign-ins while preparing")
    parser.add_argument(
        "--json", type=Path, help="write the figures here (the PostgreSQL run's when both ran)"
    )
    args = parser.parse_args()

    backends = ["postgresql", "sqlite"] if args.backend == "both" else [args.backend]
    results = []
    for backend in backends:
        print(
            f"-- {backend}: {args.students} students, deadline storm over {args.window:g} s ...", flush=True
        )
        results.append(run(backend, args))
    print_table(results)
    for result in results:
        print(f"{result['backend']}: responses by status {result['statuses']}")
    if args.json:
        main_result = results[0]
        payload = {key: main_result[key] for key in ["students", "saves", "acknowledged", "stored", "lost_answers",
                                                     "errors_5xx", "p50_ms", "p99_ms", "saves_per_s"]}  # fmt: skip
        payload["backend"] = main_result["backend"]
        payload["by_backend"] = {r["backend"]: r for r in results}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0 if all(r["lost_answers"] == 0 and r["errors_5xx"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

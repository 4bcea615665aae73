"""Deadline storm with a crash: mid-storm the gunicorn master is killed (SIGKILL) and a new one started on the same
port; the students' browsers retry every unacknowledged save and the submit, as quiz.js does. Afterwards every
answer the server acknowledged must be in the database and in the score: `lost_answers` must be 0.

With --restart-db the app stays up and the database restarts instead: a private PostgreSQL cluster (initdb into a
temporary folder, a free loopback port, run as the postgres user when this runs as root; the shared server is never
touched) is restarted with `pg_ctl restart -m immediate` (a crash, then recovery) mid-storm. The app must reconnect
by itself, and answer 503 (never 500) while the database is away.

Reuses bench/deadline_storm.py (seeding, students, counting) and runs on SQLite and PostgreSQL:

    .venv/bin/python bench/storm_kill.py                                  # both backends, 200 students
    .venv/bin/python bench/storm_kill.py --backend postgresql --students 300 --json kill.json
    .venv/bin/python bench/storm_kill.py --restart-db                     # PostgreSQL, on a cluster of its own
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from deadline_storm import (  # noqa: E402
    DEFAULT_PG,
    Browser,
    Database,
    Student,
    _in_threads,
    answer_early,
    count_in_database,
    free_port,
    gunicorn_command,
    make_database,
    move_deadlines,
    prepare,
    seed,
    server_env,
)

RETRY_STATUSES = {500, 502, 503, 504, 599}


class PrivateCluster:
    """A PostgreSQL cluster of this run's own: initdb into a temporary folder, listening on a free loopback port
    (and a socket in that folder), trust authentication for the postgres user. Runs as the postgres user when this
    runs as root (initdb refuses root), from the newest /usr/lib/postgresql/*/bin."""

    def __init__(self) -> None:
        found = sorted(
            Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
        )
        if not found:
            raise RuntimeError(
                "no PostgreSQL server binaries in /usr/lib/postgresql/*/bin (Debian: postgresql)"
            )
        self.bin = found[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="storm-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c max_connections=200"
        self.options = ["-o", options]
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), *self.options, "-w", "start"
        )
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_user, str(self.bin / tool), *args], check=True, capture_output=True, text=True
        )

    def restart_immediately(self) -> float:
        """`pg_ctl restart -m immediate`: every backend killed without a checkpoint, then crash recovery; the
        seconds until the server accepts connections again."""
        started = time.monotonic()
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), *self.options, "-m",
                  "immediate", "-w", "restart")  # fmt: skip
        return time.monotonic() - started

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        with contextlib.suppress(OSError):
            shutil.copyfile(self.root / "server.log", Path(tempfile.gettempdir()) / "storm-pg-server.log")
        shutil.rmtree(self.root, ignore_errors=True)


def start_server(database: Database, workdir: Path, port: int, args: argparse.Namespace, name: str
                 ) -> subprocess.Popen[bytes]:  # fmt: skip
    """gunicorn as deadline_storm starts it, bound with SO_REUSEPORT so a new master can bind while the killed
    master's workers finish what they hold."""
    env = server_env(database, workdir)
    command = gunicorn_command(port, args.workers, args.threads, "--reuse-port")
    log = (workdir / f"{name}.log").open("w")
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_healthy(port: int, timeout: float = 60) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("gunicorn did not come up")


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(x) for x in path.read_text().split()]
    except OSError:
        return []


def send_until_answered(student: Student, path: str, payload: dict[str, Any], give_up_at: float
                        ) -> tuple[int, dict[str, Any], int]:  # fmt: skip
    """POST like quiz.js: a lost connection or a 5xx is retried (backing off) until the server answers."""
    delay, retries = 0.2, 0
    while True:
        started = time.perf_counter()
        try:
            status, _, body = student.browser.post_json(path, payload, student.csrf)
            document = json.loads(body) if body.strip().startswith(b"{") else {}
        except (OSError, http.client.HTTPException, ValueError):
            status, document = 599, {}
            student.browser.conn = None
        student.latencies.append((time.perf_counter() - started) * 1000)
        student.statuses.append(status)
        if status not in RETRY_STATUSES or time.monotonic() > give_up_at:
            return status, document, retries
        retries += 1
        time.sleep(delay)
        delay = min(delay * 2, 2.0)


def storm(student: Student, start_at: float, storm_saves: int, give_up_at: float, retries: list[int]) -> None:
    time.sleep(max(0.0, start_at - time.monotonic()))
    plan = [(q, "c1", 1) for q in student.questions]
    plan.append((student.questions[0], "c2", 2))  # a changed answer: the newer sequence number must win
    for question, value, seq in plan[-storm_saves:]:
        payload = {"question": question, "value": value, "seq": seq, "given_at_ms": int(time.time() * 1000)}
        status, document, tried = send_until_answered(
            student, f"/quizzes/attempts/{student.attempt_id}/answers", payload, give_up_at
        )
        student.saves += 1
        retries.append(tried)
        if status == 200 and document.get("ok"):
            student.acknowledged.append((question, seq, value))
        time.sleep(0.05)
    _, _, tried = send_until_answered(
        student, f"/quizzes/attempts/{student.attempt_id}/submit", {}, give_up_at
    )
    retries.append(tried)


def run(backend: str, args: argparse.Namespace, cluster: PrivateCluster | None = None) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"storm-kill-{backend}-"))
    database = make_database(backend, workdir, cluster.url if cluster else args.pg_url)
    servers: list[subprocess.Popen[bytes]] = []
    orphans: list[int] = []
    try:
        emails = seed(database, workdir, args.students, args.questions)
        port = free_port()
        servers.append(start_server(database, workdir, port, args, "gunicorn-1"))
        wait_healthy(port)
        students = [Student(email, Browser("127.0.0.1", port)) for email in emails]
        _in_threads(students, prepare, args.concurrency)
        _in_threads(students, lambda s: answer_early(s, args.storm_saves), args.concurrency)

        # The deadline leaves room for the restart: answers given before it are accepted when they arrive.
        move_deadlines(database, workdir, timedelta(seconds=args.window + 20))

        begin = time.monotonic() + 0.5
        give_up_at = begin + args.window + 60
        retries: list[int] = []
        threads = [
            threading.Thread(target=storm, args=(s, begin + random.uniform(0, args.window), args.storm_saves,
                                                 give_up_at, retries))
            for s in students
        ]  # fmt: skip
        for thread in threads:
            thread.start()
        time.sleep(max(0.0, begin + args.window * args.kill_at - time.monotonic()))
        if cluster is not None:  # the database restarts; the app stays up and must reconnect by itself
            down = cluster.restart_immediately()
            for thread in threads:
                thread.join()
            return _summary(backend, database, workdir, students, retries, down)
        master = servers[0]
        orphans = children_of(master.pid)
        killed_at = time.monotonic()
        os.kill(master.pid, signal.SIGKILL)
        if args.kill_workers:  # as a crashed host would: the requests in the workers' hands die with them
            for pid in orphans:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        master.wait()
        servers.append(start_server(database, workdir, port, args, "gunicorn-2"))
        wait_healthy(port)
        down = time.monotonic() - killed_at
        for thread in threads:
            thread.join()
        return _summary(backend, database, workdir, students, retries, down)
    finally:
        for server in servers:
            if server.poll() is None:
                server.terminate()
                server.wait(timeout=30)
        for pid in orphans:  # the killed master's workers leave on their own; make sure of it
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        database.cleanup()
        for log in workdir.glob("gunicorn-*.log"):
            shutil.copyfile(log, Path(tempfile.gettempdir()) / f"storm-kill-{backend}-{log.name}")
        shutil.rmtree(workdir, ignore_errors=True)


def _summary(backend: str, database: Database, workdir: Path, students: list[Student], retries: list[int],
             down: float) -> dict[str, Any]:  # fmt: skip
    counted = count_in_database(database, workdir, students)
    statuses = [code for s in students for code in s.statuses]
    return {
        "backend": backend,
        "students": len(students),
        "saves": sum(s.saves for s in students),
        "acknowledged": sum(len(s.acknowledged) for s in students),
        "stored": counted["stored"],
        "lost_answers": counted["lost_answers"],
        "unsubmitted": counted["unsubmitted"],
        "retried_requests": sum(1 for r in retries if r),
        "failed_then_retried": sum(retries),
        "restart_s": round(down, 1),
        "errors_5xx_seen": sum(1 for code in statuses if code in RETRY_STATUSES),
        "statuses": {str(k): statuses.count(k) for k in sorted(set(statuses))},
    }


COLUMNS = ["students", "saves", "acknowledged", "stored", "lost_answers", "unsubmitted", "retried_requests",
           "errors_5xx_seen", "restart_s"]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--backend", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("LMS_BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--questions", type=int, default=6)
    parser.add_argument("--storm-saves", type=int, default=3)
    parser.add_argument("--window", type=float, default=6.0, help="seconds over which the students arrive")
    parser.add_argument(
        "--kill-at", type=float, default=0.5, help="when to kill, as a fraction of the window"
    )
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: gunicorn.conf.py's)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--kill-workers",
        action="store_true",
        help="SIGKILL the workers with the master (otherwise they finish what they hold, then leave)",
    )
    parser.add_argument(
        "--restart-db",
        action="store_true",
        help="restart a private PostgreSQL cluster (pg_ctl restart -m immediate) instead of killing the master",
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    backends = ["postgresql", "sqlite"] if args.backend == "both" else [args.backend]
    if args.restart_db:
        backends = ["postgresql"]
    results = []
    for backend in backends:
        what = "the database restarted" if args.restart_db else "master killed"
        print(
            f"-- {backend}: {args.students} students, {what} {args.kill_at:.0%} into the storm ...",
            flush=True,
        )
        cluster = PrivateCluster() if args.restart_db else None
        try:
            results.append(run(backend, args, cluster))
        finally:
            if cluster is not None:
                cluster.remove()
    width = max(len(c) for c in COLUMNS) + 2
    print("".join(["backend".ljust(width), *(r["backend"].rjust(14) for r in results)]))
    for column in COLUMNS:
        print("".join([column.ljust(width), *(str(r[column]).rjust(14) for r in results)]))
    for result in results:
        print(f"{result['backend']}: responses by status {result['statuses']}")
    if args.json:
        args.json.write_text(json.dumps({"by_backend": {r["backend"]: r for r in results}}, indent=2) + "\n")
    return 0 if all(r["lost_answers"] == 0 and r["unsubmitted"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

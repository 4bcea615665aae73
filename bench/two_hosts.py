"""Two hosts behind a real load balancer: two gunicorn masters (own instance folders, own loopback ports) on one
PostgreSQL database, one Redis and one upload folder, behind HAProxy (Debian's package: round-robin, no sticky
sessions, health checks on /healthz). Run by hand (`apt-get install -y haproxy` first):

    .venv/bin/python bench/two_hosts.py                      # coherence checks, then 1 000 students twice
    .venv/bin/python bench/two_hosts.py --students 300 --json two-hosts.json

Three phases, each on a PostgreSQL schema of its own (LMS_BENCH_DATABASE_URL, default the tests' server), with its
own pair of hosts and balancer:
1. the coherence checks of tests/test_two_hosts.py, through the balancer (every request may land on either host);
2. the deadline storm of bench/deadline_storm.py through the balancer: no acknowledged answer lost, no 5xx;
3. the same storm with one host killed (SIGKILL, master and workers) mid-storm: the students' browsers retry
   as quiz.js does (bench/storm_kill.py), the balancer sends them to the other host, and nothing is lost.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import shutil
import signal
import statistics
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
    Student,
    _in_threads,
    answer_early,
    count_in_database,
    make_database,
    move_deadlines,
    percentile,
    prepare,
    seed,
)
from deadline_storm import storm as plain_storm  # noqa: E402
from storm_kill import children_of  # noqa: E402
from storm_kill import storm as retrying_storm  # noqa: E402

from tests import hosts  # noqa: E402
from tests.test_two_hosts import CHECKS, forget_counters, host_settings, prepare_world  # noqa: E402

HAPROXY_CONFIG = """\
global
    maxconn 8192
defaults
    mode http
    option forwardfor if-none
    timeout connect 2s
    timeout queue 60s
    timeout check 5s
    timeout client 120s
    timeout server 120s
    timeout http-keep-alive 10s
    retries 3
    option redispatch
frontend lms
    bind 127.0.0.1:{port}
    default_backend hosts
backend hosts
    balance roundrobin
    option httpchk GET /healthz
    http-check expect status 200
    default-server inter 500ms fall 2 rise 2 maxconn 32
    server a 127.0.0.1:{a} check
    server b 127.0.0.1:{b} check
"""


class Balancer:
    def __init__(self, workdir: Path, a: hosts.Host, b: hosts.Host) -> None:
        self.port = hosts.free_port()
        config = workdir / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=self.port, a=a.port, b=b.port))
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        self.log = workdir / "haproxy.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [haproxy, "-db", "-f", str(config)], stdout=out, stderr=subprocess.STDOUT
            )
        self.host = hosts.Host("balancer", self.port, self.process, self.log)  # type: ignore[arg-type]
        hosts.wait_ready(self.host)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def served(host: hosts.Host) -> int:
    """Requests this host answered, from its access log (the balancer's health checks left out)."""
    path = Path(host.log).with_name("access.log")
    return sum(1 for line in path.open() if "/healthz" not in line) if path.exists() else 0


def start_pair(url: str, workdir: Path, prefix: str, workers: int | None) -> dict[str, hosts.Host]:
    envs = {}
    for name in ("a", "b"):
        settings = host_settings(
            prefix
        )  # the address the visitor names (or the balancer adds) is the client's
        settings["LMS_LOGIN_LIMIT_PER_ADDRESS"] = "100000 per minute"  # a thousand students sign in from here
        env = hosts.host_env(url, workdir, name, **settings)
        env["GUNICORN_ACCESSLOG"] = str(workdir / f"instance-{name}" / "access.log")
        envs[name] = env
    running = {name: hosts.start_host(name, env, workers) for name, env in envs.items()}
    hosts.wait_ready(*running.values(), timeout=90)
    return running


def stop_pair(running: dict[str, hosts.Host]) -> None:
    for host in running.values():
        for pid in children_of(host.process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
    hosts.stop(*running.values())


def coherence(args: argparse.Namespace) -> list[tuple[str, str, str]]:
    """Each check of tests/test_two_hosts.py, through the balancer and then host A against host B directly."""
    workdir = Path(tempfile.mkdtemp(prefix="two-hosts-checks-"))
    database = make_database("postgresql", workdir, args.pg_url)
    prefix = f"lms-bench-{secrets.token_hex(6)}"
    running: dict[str, hosts.Host] = {}
    balancer = None
    world = None
    try:
        world = prepare_world(workdir / "world", database.url)
        world.prefix = prefix
        running = start_pair(database.url, workdir, prefix, args.workers)
        balancer = Balancer(workdir, running["a"], running["b"])
        outcomes: dict[str, list[str]] = {check.__name__: [] for check in CHECKS}
        served_by = []
        for a, b in ((balancer.host, balancer.host), (running["a"], running["b"])):
            before = (served(running["a"]), served(running["b"]))
            for check in CHECKS:
                world.a, world.b = a, b
                started = time.perf_counter()
                try:
                    check(world)
                    outcomes[check.__name__].append(f"pass ({time.perf_counter() - started:.1f} s)")
                except AssertionError as error:
                    outcomes[check.__name__].append(
                        f"FAIL: {(str(error) or repr(error)).splitlines()[0][:60]}"
                    )
            served_by.append(f"{served(running['a']) - before[0]} / {served(running['b']) - before[1]}")
        rows = [(name.removeprefix("check_").replace("_", " "), *cells) for name, cells in outcomes.items()]
        rows.append(("requests served by host a / b", *served_by))
        return rows  # type: ignore[return-value]
    finally:
        if balancer is not None:
            balancer.stop()
        stop_pair(running)
        if world is not None:
            with world.app.app_context():
                from lms.extensions import db

                db.engine.dispose()
        database.cleanup()
        forget_counters(prefix)
        shutil.rmtree(workdir, ignore_errors=True)


def deadline_storm(args: argparse.Namespace, kill: bool) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="two-hosts-storm-"))
    database = make_database("postgresql", workdir, args.pg_url)
    prefix = f"lms-bench-{secrets.token_hex(6)}"
    running: dict[str, hosts.Host] = {}
    balancer = None
    killed_workers: list[int] = []
    try:
        emails = seed(database, workdir, args.students, args.questions)
        running = start_pair(database.url, workdir, prefix, args.workers)
        balancer = Balancer(workdir, running["a"], running["b"])
        students = [Student(email, Browser("127.0.0.1", balancer.port)) for email in emails]
        _in_threads(students, prepare, args.concurrency)
        _in_threads(students, lambda s: answer_early(s, args.storm_saves), args.concurrency)
        move_deadlines(database, workdir, timedelta(seconds=args.window + 20))  # room for a loaded machine

        begin = time.monotonic() + 0.5
        retries: list[int] = []
        if kill:
            give_up_at = begin + args.window + 60
            threads = [
                threading.Thread(target=retrying_storm, args=(s, begin + random.uniform(0, args.window),
                                                              args.storm_saves, give_up_at, retries))
                for s in students
            ]  # fmt: skip
        else:
            threads = [
                threading.Thread(
                    target=plain_storm,
                    args=(s, begin + random.uniform(0, args.window), 0.05, args.storm_saves),
                )
                for s in students
            ]
        wall_start = time.monotonic()
        for thread in threads:
            thread.start()
        if kill:
            time.sleep(max(0.0, begin + args.window * args.kill_at - time.monotonic()))
            victim = running["a"]
            killed_workers = children_of(victim.process.pid)
            os.kill(victim.process.pid, signal.SIGKILL)  # the host dies: master and workers, mid-request
            for pid in killed_workers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            victim.process.wait()
        for thread in threads:
            thread.join()
        wall = time.monotonic() - wall_start

        counted = count_in_database(database, workdir, students)
        statuses = [code for s in students for code in s.statuses]
        latencies = sorted(ms for s in students for ms in s.latencies)
        return {
            "phase": "storm, host a killed" if kill else "storm",
            "students": len(students),
            "saves": sum(s.saves for s in students),
            "acknowledged": sum(len(s.acknowledged) for s in students),
            "stored": counted["stored"],
            "lost_answers": counted["lost_answers"],
            "unsubmitted": counted["unsubmitted"],
            "errors_5xx": sum(1 for code in statuses if code >= 500 and code != 599),
            "connection_errors": statuses.count(599),
            "retried_requests": sum(1 for r in retries if r),
            "served_a": served(running["a"]),
            "served_b": served(running["b"]),
            "p50_ms": round(statistics.median(latencies), 1) if latencies else 0.0,
            "p99_ms": percentile(latencies, 0.99),
            "storm_s": round(wall, 1),
            "statuses": {str(k): statuses.count(k) for k in sorted(set(statuses))},
        }
    finally:
        if balancer is not None:
            balancer.stop()
        stop_pair(running)
        for pid in killed_workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        database.cleanup()
        forget_counters(prefix)
        shutil.rmtree(workdir, ignore_errors=True)


STORM_COLUMNS = ["students", "saves", "acknowledged", "stored", "lost_answers", "unsubmitted", "errors_5xx",
                 "connection_errors", "retried_requests", "served_a", "served_b", "p50_ms", "p99_ms",
                 "storm_s"]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--pg-url", default=os.environ.get("LMS_BENCH_DATABASE_URL", DEFAULT_PG))
    parser.add_argument("--questions", type=int, default=6)
    parser.add_argument("--storm-saves", type=int, default=3)
    parser.add_argument("--window", type=float, default=8.0, help="seconds over which the students arrive")
    parser.add_argument(
        "--kill-at", type=float, default=0.5, help="when host a dies, as a fraction of the window"
    )
    parser.add_argument("--workers", type=int, help="gunicorn workers per host (default: gunicorn.conf.py's)")
    parser.add_argument("--concurrency", type=int, default=16, help="parallel sign-ins while preparing")
    parser.add_argument("--skip-storm", action="store_true", help="the coherence checks only")
    parser.add_argument("--skip-checks", action="store_true", help="the storms only")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not shutil.which("haproxy") and not Path("/usr/sbin/haproxy").exists():
        parser.error("HAProxy is not installed: apt-get install -y haproxy")

    rows: list[tuple[str, str, str]] = []
    if not args.skip_checks:
        print("-- coherence checks: through HAProxy, and host a against host b directly ...", flush=True)
        rows = coherence(args)
    if rows:
        widths = [max((len(r[i]) for r in rows), default=0) + 2 for i in range(3)]
        widths[0] = max(widths[0], len("check") + 2)
        header = ("check", "through the balancer", "a then b, direct")
        print(
            "".join(
                h.ljust(w) for h, w in zip(header, [widths[0], max(widths[1], 22), widths[2]], strict=True)
            )
        )
        for row in rows:
            print(
                "".join(
                    c.ljust(w) for c, w in zip(row, [widths[0], max(widths[1], 22), widths[2]], strict=True)
                )
            )

    results = []
    if not args.skip_storm:
        for kill in (False, True):
            what = "one host SIGKILLed mid-storm" if kill else "both hosts up"
            print(f"-- deadline storm through HAProxy, {args.students} students, {what} ...", flush=True)
            results.append(deadline_storm(args, kill))
        width = max(len(c) for c in STORM_COLUMNS) + 2
        print("".join(["phase".ljust(width), *(r["phase"].rjust(24) for r in results)]))
        for column in STORM_COLUMNS:
            print("".join([column.ljust(width), *(str(r[column]).rjust(24) for r in results)]))
        for result in results:
            print(f"{result['phase']}: responses by status {result['statuses']}")
    if args.json:
        args.json.write_text(json.dumps({"checks": rows, "storms": results}, indent=2) + "\n")
    checks_ok = all("FAIL" not in cell for row in rows for cell in row[1:])
    storms_ok = all(r["lost_answers"] == 0 and r["unsubmitted"] == 0 for r in results) and (
        not results or results[0]["errors_5xx"] == 0
    )
    return 0 if checks_ok and storms_ok else 1


if __name__ == "__main__":
    sys.exit(main())

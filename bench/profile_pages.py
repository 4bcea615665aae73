"""Profile the benchmarked pages in-process (cProfile): where a request's time goes, without HTTP or gunicorn.

Prepares an instance like bench/throughput.py (same bootstrap and data), then runs each page N times through the
WSGI app and prints the functions with the most cumulative time. Run by hand:

    .venv/bin/python bench/profile_pages.py --database sqlite --requests 300 --only "verify page"

With --seeded-url, it profiles the staff pages of bench/throughput.py --scale (the grading queue's filters, the
staff certificate list, the admin user search) on a database bench/seed_scale.py already filled, as the demo
instructor and admin. Signing in writes their session rows, so give it a copy of a shared seeded database:

    createdb -T lms_scale lms_scale_mine
    .venv/bin/python bench/profile_pages.py --seeded-url postgresql+psycopg://postgres@127.0.0.1/lms_scale_mine \
        --time-only --only "queue todo"
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import throughput  # noqa: E402
import throughput_scale  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--pg-server", default=throughput.DEFAULT_PG_SERVER)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--only", action="append", help="profile only these targets (repeatable)")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="cumulative", help="pstats order: cumulative, tottime, ...")
    parser.add_argument("--time-only", action="store_true", help="time the requests, do not profile them")
    parser.add_argument("--sql", action="store_true", help="print the SQL statements of one request")
    parser.add_argument(
        "--seeded-url", help="a database bench/seed_scale.py filled (kept): its staff pages only"
    )
    args = parser.parse_args()

    if args.seeded_url:
        instance = throughput_scale.reuse(args.seeded_url)
        instance.drop = lambda: None  # the seeded database is kept
    else:
        instance = throughput.make_instance(args.database, args.pg_server)
    try:
        if not args.seeded_url:
            throughput.build_schema(instance)
        data = throughput.prepare(instance, 40) if not args.seeded_url else {}
        os.environ.update(instance.env)
        # No job thread in this process (SQLite's default): its PDFs and emails would count as the pages' CPU.
        os.environ["LMS_JOBS_RUNNER"] = "manual"
        from lms import create_app
        from lms.accounts.demo import DEMO_ACCOUNTS

        app = create_app()
        demo = {email: password for _, email, _, password in DEMO_ACCOUNTS}
        instructor, admin = app.test_client(), app.test_client()
        _sign_in(instructor, "instructor@example.org", demo["instructor@example.org"])
        _sign_in(admin, "admin@example.org", demo["admin@example.org"])
        targets: dict[str, Any] = {}
        if data:
            student = app.test_client()
            _sign_in(student, data["student"], data["student_password"])
            taking = data["attempts"][0]
            attempt = f"/quizzes/attempts/{taking['attempt_id']}"
            csrf = throughput.CSRF_META.search(student.get(attempt).get_data(as_text=True)).group(1)  # type: ignore[union-attr]
            anonymous = app.test_client()
            seq = iter(range(1, 10**9))
            targets |= {
                "verify page": lambda: anonymous.get(f"/verify/{data['certificate']}"),
                "lesson page": lambda: student.get(data["lesson_path"]),
                "quiz autosave": lambda: student.post(
                    f"{attempt}/answers",
                    data=json.dumps(
                        {"question": taking["question"], "value": taking["value"], "seq": next(seq)}
                    ),
                    headers={"Content-Type": "application/json", "X-CSRFToken": csrf},
                ),
                "grading queue": lambda: instructor.get("/grading"),
            }
        targets |= _staff_targets(instructor, admin)
        if args.seeded_url:
            seeded = throughput_scale.seeded_on(args.seeded_url)
            student = app.test_client()
            _sign_in(student, seeded["students"][1], seeded["password"])
            targets["student dashboard"] = lambda: student.get("/dashboard")
        for name, call in targets.items():
            if args.only and name not in args.only:
                continue
            assert call().status_code == 200, name
            for _ in range(20):
                call()
            if args.sql:
                _print_sql(app, call, name)
            if args.time_only:
                started, cpu_started = time.perf_counter(), time.process_time()
                for _ in range(args.requests):
                    call()
                wall = (time.perf_counter() - started) / args.requests * 1000
                cpu = (time.process_time() - cpu_started) / args.requests * 1000
                print(f"{name}: {wall:.2f} ms per request ({cpu:.2f} ms of this process's CPU)")
                continue
            profiler = cProfile.Profile()
            started = time.perf_counter()
            profiler.enable()
            for _ in range(args.requests):
                call()
            profiler.disable()
            per_request = (time.perf_counter() - started) / args.requests * 1000
            print(f"\n===== {name}: {per_request:.2f} ms per request (profiled) =====")
            stats = pstats.Stats(profiler)
            stats.sort_stats(args.sort).print_stats(args.top)
        from lms.certificates.tally import tally_of

        tally_of(app).flush()  # the counted views, before the database goes
        return 0
    finally:
        instance.drop()
        shutil.rmtree(instance.workdir, ignore_errors=True)


def _sign_in(client: Any, email: str, password: str) -> None:
    page = client.get("/login").get_data(as_text=True)
    token = throughput.CSRF_INPUT.search(page)
    assert token
    done = client.post("/login", data={"email": email, "password": password,
                                       "csrf_token": token.group(1) or token.group(2)})  # fmt: skip
    assert done.status_code == 302, (email, done.status_code)


def _staff_targets(instructor: Any, admin: Any) -> dict[str, Any]:
    """The staff pages of bench/throughput.py --scale (throughput_scale.run), with the same paths and readers."""

    def page(client: Any, path: str) -> Any:
        return lambda: client.get(path)

    return {
        **{
            f"queue {state}": page(instructor, f"/grading?state={state}")
            for state in throughput_scale.QUEUE_FILTERS
        },
        "gradebook p1": page(instructor, f"/gradebook/{throughput_scale.STRATEGIST}"),
        "gradebook p50": page(instructor, f"/gradebook/{throughput_scale.STRATEGIST}?page=50"),
        "gradebook by progress": page(instructor, f"/gradebook/{throughput_scale.STRATEGIST}?sort=progress"),
        "admin user search": page(admin, "/admin/users?q=nora"),
        "certificates": page(instructor, "/staff/certificates"),
        "certificates q": page(instructor, "/staff/certificates?q=nora"),
    }


def _print_sql(app: object, call: object, name: str) -> None:
    import sqlalchemy as sa

    from lms.database import statement_engine
    from lms.extensions import db

    statements: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(" ".join(statement.split())[:200])

    with app.app_context():  # type: ignore[attr-defined]
        engines = {db.engine, statement_engine()}
    for engine in engines:
        sa.event.listen(engine, "before_cursor_execute", record)
    try:
        call()  # type: ignore[operator]
    finally:
        for engine in engines:
            sa.event.remove(engine, "before_cursor_execute", record)
    print(f"-- {name}: {len(statements)} statements")
    for statement in statements:
        print("   ", statement)


if __name__ == "__main__":
    sys.exit(main())

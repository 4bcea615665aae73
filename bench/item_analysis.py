"""Item analysis at scale, by hand (not CI): one quiz with 100 000 finished attempts on PostgreSQL, inserted in
bulk, then the staff analysis page timed (it reads the sums kept in quiz_item_counts, lms.quizzes.itemstats),
beside the full scan it replaced and `lms item-report --rebuild`'s recomputation. Works in a schema of its own on
the server (dropped at the end), so a shared test database is safe.

    .venv/bin/python bench/item_analysis.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test \
        --attempts 100000
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

QUIZ = "manager-measurement-with-numbers"
STUDENTS = 200
BATCH = 5000
PASSWORD = "quiet-river-lantern-42"  # noqa: S105  (throwaway accounts in a throwaway schema)


def _answer(question: dict, rng: random.Random) -> object:
    kind = question["type"]
    if kind == "single":
        return rng.choice(question["choices"])["id"]
    if kind == "multiple":
        return [c["id"] for c in question["choices"] if rng.random() < 0.5]
    if kind == "true_false":
        return rng.random() < 0.7
    if "number" in question:
        return str(question["number"] if rng.random() < 0.6 else round(question["number"] * 1.5, 2))
    return rng.choice([*question["accept"], "no idea", "something else"])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=os.environ.get("LMS_TEST_DATABASE_URL", ""))
    parser.add_argument("--attempts", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if not args.database_url.startswith("postgresql"):
        parser.error("give a PostgreSQL URL (--database-url or LMS_TEST_DATABASE_URL)")

    from flask_migrate import upgrade

    from lms import create_app
    from lms.accounts import operations as accounts
    from lms.accounts.models import Role
    from lms.clock import now_utc
    from lms.content import sync_content
    from lms.extensions import db
    from lms.quizzes import operations as quizzes
    from lms.quizzes.analysis import analyse
    from lms.quizzes.models import SUBMITTED, Attempt, Quiz, QuizVersion
    from lms.quizzes.scoring import score_attempt
    from tests.conftest import sign_in
    from tests.support import BrowserLikeClient

    schema = f"bench_items_{os.getpid()}"
    admin_engine = sa.create_engine(args.database_url)
    with admin_engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(args.database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False), "TESTING": True,
            "SECRET_KEY": "bench-not-secret", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
            "RATELIMIT_ENABLED": False, "SERVER_NAME": None,
        })  # fmt: skip
        app.test_client_class = BrowserLikeClient
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
            sync_content(Path(app.config["COURSES_DIR"]), Path(app.config["QUIZZES_DIR"]))
            quiz = db.session.execute(sa.select(Quiz).where(Quiz.slug == QUIZ)).scalar_one()
            version = db.session.execute(
                sa.select(QuizVersion).where(
                    QuizVersion.quiz_id == quiz.id, QuizVersion.number == quiz.current_version
                )
            ).scalar_one()
            admin = accounts.register_user("bench-admin@example.org", "Bench Admin", PASSWORD, Role.ADMIN)
            students = [
                accounts.register_user(f"s{n}@example.org", f"Student {n}", PASSWORD) for n in range(STUDENTS)
            ]
            student_ids = [s.id for s in students]
            db.session.commit()
            rng = random.Random(21)
            questions = [q for q in version.questions if not q.get("retired")]
            now = now_utc()
            t0 = time.perf_counter()
            rows = []
            for i in range(args.attempts):
                shown = rng.sample(questions, min(quiz.draw, len(questions)))
                answers = {q["id"]: _answer(q, rng) for q in shown}
                score = score_attempt(shown, answers, quiz.pass_percent)
                rows.append({
                    "quiz_id": quiz.id, "quiz_version_id": version.id, "user_id": student_ids[i % STUDENTS],
                    "number": i // STUDENTS + 1, "state": SUBMITTED, "started_at": now - timedelta(hours=1),
                    "time_limit_seconds": quiz.time_limit_seconds, "deadline": now, "on_expiry": "auto_submit",
                    "layout": [{"question": q["id"], "choices": [c["id"] for c in q.get("choices", [])]} for q in shown],
                    "submitted_at": now, "submitted_by": "student", "score": score.points,
                    "max_score": score.max_points, "percent": score.percent, "passed": score.passed,
                    "results": {qid: {"answer": answers[qid], "points": s.points, "max": s.max_points, "save_id": None}
                                for qid, s in score.per_question.items()},
                    "flagged": [], "accommodation_factor": 1.0, "extra_seconds": 0, "cut_by_close": False,
                    "grace_seconds": 0,
                })  # fmt: skip
                if len(rows) == BATCH:
                    db.session.execute(sa.insert(Attempt), rows)
                    rows = []
            if rows:
                db.session.execute(sa.insert(Attempt), rows)
            db.session.commit()
            print(f"inserted {args.attempts} submitted attempts in {time.perf_counter() - t0:.1f} s")
            db.session.execute(sa.text("ANALYZE quiz_attempts, quiz_item_counts"))
            db.session.commit()

            t0 = time.perf_counter()
            done = quizzes.rebuild_item_counts(QUIZ)
            print(
                f"lms item-report --rebuild: {done[-1][2]} attempts summed in {time.perf_counter() - t0:.1f} s"
            )

            t0 = time.perf_counter()
            scanned = [
                {"percent": p, "results": r}
                for p, r in db.session.execute(
                    sa.select(Attempt.percent, Attempt.results).where(Attempt.quiz_version_id == version.id)
                )
            ]
            full = analyse(version.questions, scanned)
            scan_s = time.perf_counter() - t0
            assert full == quizzes.analyse_version(version), "the kept sums differ from the scan"
            db.session.commit()

            client = app.test_client()
            sign_in(client, admin)
            db.session.commit()
            assert client.get(f"/staff/quizzes/{QUIZ}/analysis").status_code == 200  # templates compiled
            timings = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                response = client.get(f"/staff/quizzes/{QUIZ}/analysis")
                timings.append(time.perf_counter() - t0)
                assert response.status_code == 200, response.status_code
            spent: list[tuple[float, str]] = []

            def before(conn, cursor, statement, *_):
                conn.info["bench_t0"] = time.perf_counter()

            def after(conn, cursor, statement, *_):
                spent.append(
                    (time.perf_counter() - conn.info.pop("bench_t0"), " ".join(statement.split())[:110])
                )

            sa.event.listen(db.engine, "before_cursor_execute", before)
            sa.event.listen(db.engine, "after_cursor_execute", after)
            t0 = time.perf_counter()
            client.get(f"/staff/quizzes/{QUIZ}/analysis")
            total_s = time.perf_counter() - t0
            sa.event.remove(db.engine, "before_cursor_execute", before)
            sa.event.remove(db.engine, "after_cursor_execute", after)
            print(f"one more request: {1000 * total_s:.0f} ms, {len(spent)} statements taking "
                  f"{1000 * sum(t for t, _ in spent):.0f} ms; the slowest:")  # fmt: skip
            for seconds, statement in sorted(spent, reverse=True)[:4]:
                print(f"  {1000 * seconds:6.1f} ms  {statement}")
            print(f"full scan and analysis (before): {1000 * scan_s:.0f} ms")
            print(f"analysis page, {args.runs} runs: median {1000 * statistics.median(timings):.0f} ms, "
                  f"worst {1000 * max(timings):.0f} ms")  # fmt: skip
    finally:
        with admin_engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin_engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

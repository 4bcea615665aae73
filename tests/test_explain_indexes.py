"""Every hot statement of the busy pages can use an index (PostgreSQL only).

A modest institution is seeded with bench/seed_scale.py (COPY; about 100 000 answer saves, tens of thousands of
rows in the other big tables) and ANALYZEd; each page is requested as its reader would, and every statement it
ran is captured with its parameters. Each is then EXPLAINed (FORMAT JSON) with `enable_seqscan = off`: the planner
then scans a table from start to end only when no index can serve the statement at all, so a Seq Scan of one of
the big tables below is an index missing (or a query no index can serve), whatever the table's size today.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from bench.seed_scale import seed
from lms import create_app
from lms.accounts.models import User
from lms.certificates.codes import format_code
from lms.database import dispose_engines, statement_engine
from lms.extensions import db
from tests.conftest import (
    BASE_CONFIG,
    PG_SKIP_REASON,
    PG_URL,
    create_schema,
    drop_schema,
    new_schema_name,
    schema_url,
    sign_in,
)
from tests.support import BrowserLikeClient

pytestmark = pytest.mark.skipif(not PG_URL, reason=PG_SKIP_REASON)

SCALE = 0.05  # 1 000 students, about 12 000 attempts and 130 000 answer saves: seeded in seconds
BIG_TABLES = {
    "users", "enrollments", "lesson_completions", "quiz_attempts", "quiz_answer_saves", "quiz_overrides",
    "assignment_submissions", "assignment_grades", "assignment_criterion_scores", "assignment_grade_changes",
    "certificates", "certificate_versions", "certificate_events",
}  # fmt: skip
TRACK, OTHER = "social-media-manager", "social-media-strategist"


@pytest.fixture(scope="module")
def seeded() -> Iterator[Flask]:
    name = new_schema_name("explain")
    create_schema(name)
    url = schema_url(PG_URL, name)
    try:
        app = create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        app.test_client_class = BrowserLikeClient
        seed(url, SCALE, bootstrap=True, log=lambda _: None, app=app)
        yield app
        with app.app_context():
            dispose_engines(db.engine)
    finally:
        drop_schema(name)


def captured(app: Flask, who: str | None, method: str, path: str, **kwargs: Any) -> list[tuple[str, Any]]:
    """The statements (with parameters) one request runs, the request answered 2xx."""
    found: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if not many:
            found.append((statement, parameters))

    with app.app_context():
        client = app.test_client()
        if who:
            user = db.session.execute(sa.select(User).where(User.email == who)).scalar_one()
            sign_in(client, user)
            db.session.commit()
            client.get("/dashboard")  # the first page after signing in stores the session's token
        engines = {db.engine, statement_engine()}
        for engine in engines:
            sa.event.listen(engine, "before_cursor_execute", record)
        try:
            response = client.open(path, method=method, **kwargs)
        finally:
            for engine in engines:
                sa.event.remove(engine, "before_cursor_execute", record)
        assert response.status_code < 300, (path, response.status_code)
    return found


def seq_scans(plan: dict[str, Any]) -> Iterator[str]:
    """The tables the plan reads with a Seq Scan (with seq scans off: only where no index can serve)."""
    if plan.get("Node Type") == "Seq Scan":
        yield f"{plan['Relation Name']} (Seq Scan, filter: {plan.get('Filter', 'none')})"
    for child in plan.get("Plans", []):
        yield from seq_scans(child)


def explain_all(app: Flask, statements: list[tuple[str, Any]], allowed: set[str] = frozenset()) -> list[str]:
    """The big tables each statement reads from start to end although an index could be used."""
    problems = []
    with app.app_context(), db.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in statements:
            verb = statement.lstrip().split(None, 1)[0].upper()
            if verb not in {"SELECT", "UPDATE", "DELETE", "WITH"}:
                continue
            raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()
            plan = (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]
            for scan in seq_scans(plan):
                table = scan.split(" ", 1)[0]
                if table in BIG_TABLES and table not in allowed:
                    problems.append(f"{scan}: {' '.join(statement.split())[:300]}")
        conn.rollback()
    return problems


def a_student(app: Flask) -> str:
    with app.app_context():
        return db.session.execute(
            sa.select(User.email).where(User.email.like("scale1.%")).order_by(User.id).limit(1)
        ).scalar_one()


STAFF_PAGES = [
    *(
        f"/grading?state={state}"
        for state in ("todo", "submitted", "in_grading", "graded", "returned", "released", "regrade", "all")
    ),
    "/grading?state=all&late=yes",
    "/grading?state=todo&late=no",
    f"/grading?track={OTHER}&state=all&page=2",
    f"/gradebook/{TRACK}",
    f"/gradebook/{TRACK}?page=10",
    f"/gradebook/{OTHER}?left=1",
    *(
        f"/gradebook/{TRACK}?sort={sort}&order={order}"
        for sort in ("name", "progress", "enrolled")
        for order in ("asc", "desc")
    ),
    f"/gradebook/{TRACK}.csv",
    "/staff/certificates",
    "/staff/certificates?state=suspended",
]


@pytest.mark.parametrize("path", STAFF_PAGES)
def test_staff_pages_use_indexes(seeded, path):
    statements = captured(seeded, "instructor@example.org", "GET", path)
    assert statements
    assert explain_all(seeded, statements) == []


SEARCHES = [
    ("instructor@example.org", f"/gradebook/{TRACK}?q=ada"),
    ("instructor@example.org", f"/gradebook/{TRACK}?q=ada&sort=progress"),
    ("instructor@example.org", "/staff/certificates?q=ada"),
    ("admin@example.org", "/admin/users?q=ada"),
    ("admin@example.org", "/admin/users?q=example.org"),
]


@pytest.mark.parametrize(("who", "path"), SEARCHES)
def test_searches_by_part_of_a_name_or_address_use_the_trigram_indexes(seeded, who, path):
    """LIKE '%...%' on email and lower(full_name), wherever it is typed: pg_trgm's GIN indexes (migration
    c21e00000001) serve it, so no search reads every user."""
    statements = captured(seeded, who, "GET", path)
    assert any("LIKE" in statement.upper() for statement, _ in statements)
    assert explain_all(seeded, statements) == []


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_the_gradebook_sorted_by_progress_reads_no_completions(seeded, order):
    """The sort reads each enrolment's kept count (Enrollment.lessons_done, indexed with the track), never a
    grouping of every completion of the track."""
    statements = captured(
        seeded, "instructor@example.org", "GET", f"/gradebook/{TRACK}?sort=progress&order={order}"
    )
    assert statements
    assert [s for s, _ in statements if "lesson_completions" in s] == []
    assert explain_all(seeded, statements) == []


def test_student_pages_use_indexes(seeded):
    student = a_student(seeded)
    with seeded.app_context():
        lesson = db.session.execute(
            sa.text(
                "SELECT slug FROM lessons WHERE track_id = (SELECT id FROM tracks WHERE slug = :t) ORDER BY id"
            ),
            {"t": TRACK},
        ).scalar()
        code = db.session.execute(sa.text("SELECT code FROM certificates ORDER BY id LIMIT 1")).scalar_one()
    statements = [
        *captured(seeded, student, "GET", "/dashboard"),
        *captured(seeded, student, "GET", f"/tracks/{TRACK}/lessons/{lesson}"),
        *captured(seeded, None, "GET", f"/verify/{format_code(code)}"),
    ]
    assert explain_all(seeded, statements) == []


def test_the_seeded_attempts_are_in_the_item_analysis_sums(seeded):
    """seed_scale COPYs attempts past the finishing code, then rebuilds the kept sums: the analysis page reads
    them, so they must equal the scan of the attempts (without the rebuild they would count none)."""
    from lms.quizzes.itemstats import counts_of, scan_counts
    from lms.quizzes.models import Quiz, QuizVersion

    with seeded.app_context():
        version = (
            db.session.execute(
                sa.select(QuizVersion)
                .join(Quiz, Quiz.id == QuizVersion.quiz_id)
                .where(Quiz.slug == "manager-daily-operations")
                .order_by(QuizVersion.number.desc())
            )
            .scalars()
            .first()
        )
        kept, complete = counts_of(version)
        scanned = scan_counts(version)
        assert complete
        assert sum(scanned.attempts.values()) > 100
        assert kept.attempts == scanned.attempts
        assert kept.picks == scanned.picks

"""The item analysis kept up to date: each finished attempt adds its sums (lms.quizzes.analysis.Counts) to
quiz_item_counts in the finishing transaction, so the analysis page and `lms item-report` read O(items) rows.

It mirrors the full scan (`scan_counts`: every submitted attempt's results, read as before) and must give the same
Analysis (tests/test_quiz_item_counts.py compares both on random attempts, on both databases). A version's sums are complete when it has the
marker row (kind "v"): a version gets it when it is created (the loader, before any attempt), when the migration
found it without submitted attempts, or when `lms item-report --rebuild` recomputed it. Without it (attempts that
finished before this table existed), the page scans, as before, until the rebuild. Only `_finalize` (lms.quizzes.finishing) scores an attempt, and a
submitted attempt's score never changes afterwards (quizzes have no regrade), so that is the one place to add."""

from __future__ import annotations

from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from lms.extensions import db
from lms.quizzes.analysis import Counts, picks_of
from lms.quizzes.models import SUBMITTED, Attempt, ItemCount, QuizVersion

Key = tuple[str, str, str]  # kind, question id, value
COMPLETE: Key = ("v", "", "")  # the marker: these sums hold every submitted attempt of the version


def _rows(types: dict[str, str], percent: float, results: dict[str, Any]) -> dict[Key, list[float]]:
    """One attempt's additions: key -> [count, total]."""
    rows: dict[Key, list[float]] = {("a", "", repr(float(percent))): [1, 0.0]}
    for qid, result in results.items():
        if qid not in types:
            continue
        right = 1.0 if result["max"] > 0 and abs(result["points"] - result["max"]) < 1e-9 else 0.0
        rows[("q", qid, repr(float(percent)))] = [1, right]
        rows[("f", qid, "")] = [1, result["points"] / result["max"]]
        for pick in picks_of(types[qid], result["answer"]):
            rows.setdefault(("p", qid, pick), [0, 0.0])[0] += 1
    return rows


def _upsert(version_id: int, rows: dict[Key, list[float]]) -> None:
    if not rows:
        return
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    values = [
        {"quiz_version_id": version_id, "kind": k, "question_id": q, "value": v, "count": int(c), "total": t}
        for (k, q, v), (c, t) in sorted(rows.items())  # one order for every writer: no deadlock between them
    ]
    stmt = insert(ItemCount).values(values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["quiz_version_id", "kind", "question_id", "value"],
        set_={"count": ItemCount.count + stmt.excluded.count, "total": ItemCount.total + stmt.excluded.total},
    )
    db.session.execute(stmt)


def record_attempt(attempt: Attempt, questions: list[dict[str, Any]]) -> None:
    """Add a just-scored attempt to its version's sums (in the caller's transaction)."""
    if (
        db.session.get_bind().dialect.name == "postgresql"
    ):  # a rebuild of the version (FOR UPDATE) waits for us
        db.session.execute(
            sa.select(QuizVersion.id)
            .where(QuizVersion.id == attempt.quiz_version_id)
            .with_for_update(read=True)
        )
    types = {q["id"]: q["type"] for q in questions}
    _upsert(attempt.quiz_version_id, _rows(types, attempt.percent or 0.0, attempt.results or {}))


def scan_counts(version: QuizVersion) -> Counts:
    """The sums from every submitted attempt of the version: the full scan the kept sums mirror."""
    counts = Counts()
    types = {q["id"]: q["type"] for q in version.questions}
    rows = db.session.execute(
        sa.select(Attempt.percent, Attempt.results)
        .where(Attempt.quiz_version_id == version.id, Attempt.state == SUBMITTED)
        .execution_options(yield_per=2000)
    )
    for percent, results in rows:
        counts.add(types, percent, results)
    return counts


def kept_counts(version_id: int) -> tuple[Counts, bool]:
    """The kept sums, and whether they are complete (the marker row)."""
    counts, complete = Counts(), False
    for kind, qid, value, count, total in db.session.execute(
        sa.select(
            ItemCount.kind, ItemCount.question_id, ItemCount.value, ItemCount.count, ItemCount.total
        ).where(ItemCount.quiz_version_id == version_id)
    ):
        if kind == "a":
            counts.attempts[float(value)] = count
        elif kind == "q":
            counts.shown.setdefault(qid, {})[float(value)] = count
            counts.right.setdefault(qid, {})[float(value)] = round(total)
        elif kind == "f":
            counts.fraction_sum[qid] = total
        elif kind == "p" and count:
            counts.picks.setdefault(qid, Counter())[value] = count
        elif kind == COMPLETE[0]:
            complete = True
    return counts, complete


def mark_complete(version_id: int) -> None:
    """Say that the version's sums hold every submitted attempt (a new version: it has none yet)."""
    _upsert(version_id, {COMPLETE: [0, 0.0]})


def counts_of(version: QuizVersion) -> tuple[Counts, bool]:
    """The version's sums, and whether they came from the kept table (else from a scan: see the docstring)."""
    kept, complete = kept_counts(version.id)
    if complete:
        return kept, True
    return scan_counts(version), False


def rebuild(version: QuizVersion) -> int:
    """Recompute a version's kept sums from its submitted attempts (the caller commits); the attempts counted.
    The version's row is locked first (on PostgreSQL), so finishing attempts wait rather than add twice."""
    db.session.execute(sa.select(QuizVersion.id).where(QuizVersion.id == version.id).with_for_update())
    db.session.execute(sa.delete(ItemCount).where(ItemCount.quiz_version_id == version.id))
    counts = scan_counts(version)
    rows: dict[Key, list[float]] = {COMPLETE: [0, 0.0]}
    for percent, n in counts.attempts.items():
        rows[("a", "", repr(percent))] = [n, 0.0]
    for qid, by_percent in counts.shown.items():
        for percent, n in by_percent.items():
            rows[("q", qid, repr(percent))] = [n, float(counts.right[qid].get(percent, 0))]
        rows[("f", qid, "")] = [sum(by_percent.values()), counts.fraction_sum.get(qid, 0.0)]
    for qid, picks in counts.picks.items():
        for pick, n in picks.items():
            rows[("p", qid, pick)] = [n, 0.0]
    items = sorted(rows.items())
    for start in range(0, len(items), 500):
        _upsert(version.id, dict(items[start : start + 500]))
    return sum(counts.attempts.values())

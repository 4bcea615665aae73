"""The item analysis kept as sums (lms.quizzes.itemstats) gives the same Analysis as the full scan of the
attempts, on random attempts, on both databases; a version whose sums are incomplete (attempts from before the
table) is scanned instead, and `lms item-report --rebuild` fills its sums."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from lms import clock
from lms.extensions import db
from lms.quizzes import operations
from lms.quizzes.analysis import GROUP_SHARE, analyse
from lms.quizzes.itemstats import counts_of
from lms.quizzes.models import SUBMITTED, Attempt, ItemCount, QuizVersion
from tests.test_quiz_support import setup_quiz

ANSWERS = {
    "goal": [None, "c1", "c2"],
    "pick": [None, ["c1"], ["c1", "c2"], ["c1", "c2", "c3"], ["c3"], ["c2", "c3"]],
    "pilot": [None, "true", "false"],
    "roi": [None, "ROI", "roi.", "Return on  investment", "revenue", "Revenue", "cost"],
}


@pytest.fixture
def version(app, tmp_path, student):
    """A quiz drawing 3 of its 4 questions, with 70 attempts answered at random (a fixed seed)."""
    clock.freeze(datetime(2030, 1, 7, 10, 0, tzinfo=UTC))
    quiz = setup_quiz(tmp_path, student, attempts_allowed=0, draw=3, shuffle_questions=True)
    rng = random.Random(21)
    for _ in range(70):
        attempt = operations.start_attempt(student, quiz)
        answers = {qid: rng.choice(options) for qid, options in ANSWERS.items()}
        operations.submit_attempt(student, attempt.id, {k: v for k, v in answers.items() if v is not None})
    return db.session.execute(sa.select(QuizVersion).where(QuizVersion.quiz_id == quiz.id)).scalar_one()


def full_scan(version):
    rows = db.session.execute(
        sa.select(Attempt.percent, Attempt.results).where(
            Attempt.quiz_version_id == version.id, Attempt.state == SUBMITTED
        )
    ).all()
    return [{"percent": p, "results": r} for p, r in rows]


def reference_discrimination(attempts, qid):
    """Kelley's groups from the attempts one by one; attempts tied at a group's edge share its last places."""
    n = len(attempts)
    k = max(1, round(GROUP_SHARE * n))

    def p_right(ordered):
        edge = ordered[k - 1]["percent"]
        inside = [a for a in ordered if (a["percent"] < edge if ordered is low else a["percent"] > edge)]
        tied = [a for a in ordered if a["percent"] == edge]
        weight = (k - len(inside)) / len(tied)
        weighted = [(a, 1.0) for a in inside] + [(a, weight) for a in tied]
        shown = [(a["results"][qid], w) for a, w in weighted if qid in a["results"]]
        total = sum(w for _, w in shown)
        right = sum(w for r, w in shown if abs(r["points"] - r["max"]) < 1e-9)
        return right / total if total else None

    low = sorted(attempts, key=lambda a: a["percent"])
    high = low[::-1]
    upper, lower = p_right(high), p_right(low)
    return None if upper is None or lower is None else round(upper - lower, 2)


def test_kept_sums_give_the_full_scans_analysis(app, version):
    _, kept = counts_of(version)
    assert kept  # every attempt was added as it finished
    attempts = full_scan(version)
    assert len(attempts) == 70
    from_sums = operations.analyse_version(version)
    assert from_sums == analyse(version.questions, attempts)
    for stat in from_sums.questions:  # and the figures themselves, from the attempts one by one
        shown = [a["results"][stat.id] for a in attempts if stat.id in a["results"]]
        assert stat.shown == len(shown) and 0 < stat.shown < 70  # a draw of 3 of 4
        assert stat.right == sum(1 for r in shown if abs(r["points"] - r["max"]) < 1e-9)
        assert stat.mean_fraction == round(sum(r["points"] / r["max"] for r in shown) / len(shown), 3)
        assert stat.discrimination == reference_discrimination(attempts, stat.id)
        if stat.type in ("single", "multiple"):
            question = next(q for q in version.questions if q["id"] == stat.id)
            for choice, choice_stat in zip(question["choices"], stat.choices, strict=True):
                picked = sum(
                    1 for r in shown if r["answer"] == choice["id"] or choice["id"] in (r["answer"] or [])
                )
                assert choice_stat.count == picked
    roi = next(s for s in from_sums.questions if s.id == "roi")
    assert {c.label for c in roi.choices} <= {"roi", "roi.", "return on investment", "revenue", "cost"}
    assert from_sums.histogram == [
        sum(1 for a in attempts if min(9, int(a["percent"] // 10)) == b) for b in range(10)
    ]


def test_incomplete_sums_are_scanned_and_rebuild_fills_them(app, version):
    expected = analyse(version.questions, full_scan(version))
    db.session.execute(sa.delete(ItemCount).where(ItemCount.quiz_version_id == version.id))
    one = db.session.execute(
        sa.select(Attempt).where(Attempt.quiz_version_id == version.id).limit(1)
    ).scalar_one()
    from lms.quizzes.itemstats import record_attempt

    record_attempt(one, version.questions)  # as if only this one had finished after the upgrade
    db.session.commit()
    assert counts_of(version)[1] is False  # no marker: the sums are not known to be complete
    assert operations.analyse_version(version) == expected  # the scan answers meanwhile
    result = app.test_cli_runner().invoke(args=["lms", "item-report", "--rebuild", "--quiz", "basics-quiz"])
    assert result.exit_code == 0, result.output
    assert "version 1: 70 attempt(s)" in result.output
    assert counts_of(version)[1] is True
    assert operations.analyse_version(version) == expected


def test_the_page_reads_the_sums_not_the_attempts(client, login, instructor, version):
    from tests.support import recorded_statements

    login(client, instructor)
    with recorded_statements() as statements:
        page = client.get("/staff/quizzes/basics-quiz/analysis")
    assert page.status_code == 200
    assert not [s for s in statements if "results" in s.lower() and "quiz_attempts" in s.lower()]


def test_a_new_version_starts_complete_and_counts_every_finished_attempt(app, tmp_path, student):
    quiz = setup_quiz(tmp_path, student, attempts_allowed=0)
    version = db.session.execute(sa.select(QuizVersion).where(QuizVersion.quiz_id == quiz.id)).scalar_one()
    counts, kept = counts_of(version)
    assert kept and counts.attempts == {}  # the loader marked it: nothing to scan
    attempt = operations.start_attempt(student, quiz)
    operations.submit_attempt(student, attempt.id, {"goal": "c1", "pilot": "true"})
    counts, kept = counts_of(version)
    assert kept and sum(counts.attempts.values()) == 1
    assert counts.picks["goal"] == {"c1": 1} and counts.picks["pilot"] == {"true": 1}

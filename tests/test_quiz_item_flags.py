"""Item statistics that act: each question is flagged, with a plain reason, when it has too few responses (under 30)
or, from 30 on, a facility above 0.95 or below 0.2 or a discrimination below 0.1; the staff page shows the flags
and `lms item-report` writes the same figures as CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from lms import clock
from lms.quizzes import operations
from lms.quizzes.analysis import QuestionStat, flag_item
from tests.test_quiz_support import setup_quiz


def stat(shown: int, facility: float | None, discrimination: float | None) -> QuestionStat:
    return QuestionStat(
        id="q",
        prompt="?",
        type="single",
        shown=shown,
        right=0,
        mean_fraction=facility,
        discrimination=discrimination,
    )


def codes(item: QuestionStat) -> list[str]:
    return [flag.code for flag in flag_item(item)]


@pytest.mark.parametrize(
    ("shown", "facility", "discrimination", "expected"),
    [
        (0, None, None, ["too_few_responses"]),
        (29, 1.0, -0.5, ["too_few_responses"]),  # nothing else is judged on so few
        (30, 0.5, 0.4, []),
        (30, 0.95, 0.4, []),  # at the threshold: not above it
        (30, 0.96, 0.4, ["too_easy"]),
        (30, 0.2, 0.4, []),
        (30, 0.19, 0.4, ["too_hard"]),
        (30, 0.5, 0.1, []),
        (30, 0.5, 0.09, ["low_discrimination"]),
        (30, 0.5, -0.3, ["low_discrimination"]),
        (30, 0.5, None, []),
        (200, 1.0, 0.0, ["too_easy", "low_discrimination"]),
    ],
)
def test_the_flags_and_their_thresholds(shown, facility, discrimination, expected):
    assert codes(stat(shown, facility, discrimination)) == expected


def test_each_flag_says_why_with_its_figure():
    (few,) = flag_item(stat(12, 0.5, 0.3))
    assert few.reason.startswith("Only 12 responses so far")
    (one,) = flag_item(stat(1, 0.5, None))
    assert one.reason.startswith("Only 1 response so far")
    easy, low = flag_item(stat(40, 0.98, 0.05))
    assert "facility 0.98, above 0.95" in easy.reason
    assert "discrimination 0.05, below 0.1" in low.reason
    (hard,) = flag_item(stat(40, 0.1, 0.3))
    assert "facility 0.10, below 0.2" in hard.reason and "answer key" in hard.reason


@pytest.fixture
def quiz(app, tmp_path, student):
    """32 submitted attempts: "goal" always right, "pilot" right once, "roi" right for the stronger half."""
    clock.freeze(datetime(2030, 1, 7, 10, 0, tzinfo=UTC))
    quiz = setup_quiz(tmp_path, student, attempts_allowed=0)
    for i in range(32):
        answers = {"goal": "c1", "pilot": "true" if i == 0 else "false"}
        if i % 2 == 0:
            answers["pick"] = ["c1", "c2"]
        if i >= 16:
            answers["roi"] = "ROI"
        attempt = operations.start_attempt(student, quiz)
        operations.submit_attempt(student, attempt.id, answers)
    return quiz


def test_the_analysis_page_shows_the_flags_with_their_reasons(client, login, instructor, quiz):
    login(client, instructor)
    page = client.get(f"/staff/quizzes/{quiz.slug}/analysis").get_data(as_text=True)
    assert "2 of 4 questions flagged for a look." in page
    goal = page[page.index('id="item-goal"') : page.index('id="item-pick"')]
    assert "Too easy" in goal and "Nearly everyone earns its points (facility 1.00, above 0.95)" in goal
    assert "Low discrimination" in goal
    pilot = page[page.index('id="item-pilot"') : page.index('id="item-roi"')]
    assert "Too hard" in pilot and "facility 0.03, below 0.2" in pilot
    roi = page[page.index('id="item-roi"') :]
    assert "item-flag" not in roi.split("</section>")[0]


def test_item_report_writes_the_same_as_csv(app, quiz, tmp_path):
    path = tmp_path / "items.csv"
    result = app.test_cli_runner().invoke(args=["lms", "item-report", "--quiz", quiz.slug, "-o", str(path)])
    assert result.exit_code == 0, result.output
    assert f"Wrote 4 item(s), 2 flagged, to {path}." in result.output
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    by_id = {row["question"]: row for row in rows}
    assert list(by_id) == ["goal", "pick", "pilot", "roi"]
    assert by_id["goal"]["responses"] == "32" and by_id["goal"]["facility"] == "1.00"
    assert by_id["goal"]["flags"] == "too_easy low_discrimination"
    assert "above 0.95" in by_id["goal"]["reasons"]
    assert by_id["pilot"]["flags"] == "too_hard" and by_id["roi"]["flags"] == ""
    assert by_id["roi"]["discrimination"] == "0.78" and by_id["roi"]["quiz"] == quiz.slug


def test_item_report_prints_every_live_quiz_and_refuses_an_unknown_one(app, tmp_path):
    setup_quiz(tmp_path)
    runner = app.test_cli_runner()
    printed = runner.invoke(args=["lms", "item-report"])
    assert printed.exit_code == 0, printed.output
    rows = list(csv.reader(io.StringIO(printed.output)))
    assert rows[0][:3] == ["quiz", "version", "question"] and len(rows) == 5
    assert all(row[8] == "too_few_responses" and row[5] == "0" for row in rows[1:])
    unknown = runner.invoke(args=["lms", "item-report", "--quiz", "nope"])
    assert unknown.exit_code != 0 and "There is no quiz 'nope'." in unknown.output

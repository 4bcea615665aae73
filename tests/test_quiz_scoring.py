"""Scoring is a pure function: a table per question type, with the edges (empty, all wrong, partial credit)."""

from __future__ import annotations

import pytest

from lms.quizzes.scoring import AnswerInvalid, normalize_answer, parse_number, score_attempt, score_question

SINGLE = {
    "id": "s", "type": "single", "points": 2,
    "choices": [{"id": "c1", "correct": False}, {"id": "c2", "correct": True}, {"id": "c3", "correct": False}],
}  # fmt: skip


def multiple(rule: str) -> dict:
    # c1, c2, c3 correct; c4, c5 wrong
    return {
        "id": "m", "type": "multiple", "points": 3, "partial_credit": rule,
        "choices": [{"id": f"c{i}", "correct": i <= 3} for i in range(1, 6)],
    }  # fmt: skip


TRUE_FALSE = {"id": "t", "type": "true_false", "points": 1, "answer": False}
SHORT_TEXT = {"id": "a", "type": "short", "points": 1, "accept": ["Return on investment", "ROI"]}
SHORT_NUMBER = {"id": "n", "type": "short", "points": 1, "number": 12.5, "tolerance": 0.5}
SHORT_EXACT = {"id": "x", "type": "short", "points": 1, "number": 10000, "tolerance": 0}


@pytest.mark.parametrize(
    ("question", "answer", "points"),
    [
        (SINGLE, "c2", 2),
        (SINGLE, "c1", 0),
        (SINGLE, None, 0),
        # all or nothing: only the exact set scores
        (multiple("all_or_nothing"), ["c1", "c2", "c3"], 3),
        (multiple("all_or_nothing"), ["c1", "c2"], 0),
        (multiple("all_or_nothing"), ["c1", "c2", "c3", "c4"], 0),
        (multiple("all_or_nothing"), [], 0),
        # right minus wrong, per correct choice, floor 0
        (multiple("right_minus_wrong"), ["c1", "c2", "c3"], 3),
        (multiple("right_minus_wrong"), ["c1", "c2"], 2),
        (multiple("right_minus_wrong"), ["c1", "c2", "c4"], 1),
        (multiple("right_minus_wrong"), ["c1", "c4", "c5"], 0),
        (multiple("right_minus_wrong"), ["c4", "c5"], 0),
        (multiple("right_minus_wrong"), ["c1", "c2", "c3", "c4", "c5"], 1),
        (multiple("right_minus_wrong"), [], 0),
        # per choice: each of the 5 choices judged (selected or not) correctly
        (multiple("per_choice"), ["c1", "c2", "c3"], 3),
        (multiple("per_choice"), ["c1", "c2"], 2.4),
        (multiple("per_choice"), ["c1", "c4"], 1.2),  # c1 and c5 judged right: 2 of 5
        (multiple("per_choice"), ["c4", "c5"], 0),
        (multiple("per_choice"), [], 0),  # nothing selected earns nothing, not 2/5
        (multiple("per_choice"), None, 0),
        (TRUE_FALSE, False, 1),
        (TRUE_FALSE, True, 0),
        (TRUE_FALSE, None, 0),
        (SHORT_TEXT, "return on investment", 1),
        (SHORT_TEXT, "  RETURN   on Investment ", 1),
        (SHORT_TEXT, "roi", 1),
        (SHORT_TEXT, "return", 0),
        (SHORT_TEXT, None, 0),
        (SHORT_NUMBER, "12.5", 1),
        (SHORT_NUMBER, "12", 1),
        (SHORT_NUMBER, "13", 1),
        (SHORT_NUMBER, "13.01", 0),
        (SHORT_NUMBER, "11.99", 0),
        (SHORT_NUMBER, "12,7", 1),
        (SHORT_NUMBER, "twelve", 0),
        (SHORT_EXACT, "10000", 1),
        (SHORT_EXACT, "10,000", 1),
        (SHORT_EXACT, "10 000", 1),
        (SHORT_EXACT, "1e4", 1),
        (SHORT_EXACT, "10001", 0),
        (SHORT_EXACT, "nan", 0),
    ],
)
def test_score_question(question, answer, points):
    assert score_question(question, answer).points == pytest.approx(points)
    assert score_question(question, answer).max_points == question["points"]


@pytest.mark.parametrize(
    ("question", "raw", "normalized"),
    [
        (SINGLE, "c2", "c2"),
        (SINGLE, "", None),
        (SINGLE, None, None),
        (multiple("per_choice"), ["c3", "c1", "c1"], ["c1", "c3"]),  # choice order, no duplicates
        (multiple("per_choice"), "c2", ["c2"]),
        (multiple("per_choice"), None, []),
        (TRUE_FALSE, "true", True),
        (TRUE_FALSE, "False", False),
        (TRUE_FALSE, False, False),
        (TRUE_FALSE, "", None),
        (SHORT_TEXT, "  ROI ", "ROI"),
        (SHORT_TEXT, "   ", None),
        (SHORT_NUMBER, 12.5, "12.5"),
    ],
)
def test_normalize_answer(question, raw, normalized):
    assert normalize_answer(question, raw) == normalized


@pytest.mark.parametrize(
    ("question", "raw"),
    [
        (SINGLE, "c9"),
        (SINGLE, ["c1"]),
        (multiple("per_choice"), ["c1", "c9"]),
        (multiple("per_choice"), [1, 2]),
        (TRUE_FALSE, "maybe"),
        (TRUE_FALSE, 1),
        (SHORT_TEXT, {"x": 1}),
        (SHORT_TEXT, True),
        (SHORT_TEXT, "x" * 501),
    ],
)
def test_answers_that_do_not_fit_the_question_are_refused(question, raw):
    with pytest.raises(AnswerInvalid):
        normalize_answer(question, raw)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("12.5", 12.5),
        ("-3", -3.0),
        ("1,5", 1.5),
        ("1,234.5", 1234.5),
        ("10_000", 10000.0),
        ("", None),
        ("inf", None),
    ],
)
def test_parse_number(text, value):
    assert parse_number(text) == value


def test_score_attempt_totals_percent_and_pass_mark():
    questions = [SINGLE, multiple("right_minus_wrong"), TRUE_FALSE, SHORT_TEXT]  # 7 points
    all_right = score_attempt(questions, {"s": "c2", "m": ["c1", "c2", "c3"], "t": False, "a": "roi"}, 70)
    assert (all_right.points, all_right.max_points, all_right.percent, all_right.passed) == (
        7,
        7,
        100.0,
        True,
    )

    partial = score_attempt(questions, {"s": "c2", "m": ["c1", "c4"], "t": False}, 70)
    assert partial.points == pytest.approx(3)
    assert partial.percent == pytest.approx(42.86)
    assert partial.passed is False
    assert partial.per_question["a"].points == 0  # unanswered

    empty = score_attempt(questions, {}, 70)
    assert (empty.points, empty.percent, empty.passed) == (0, 0, False)

    all_wrong = score_attempt(questions, {"s": "c1", "m": ["c4", "c5"], "t": True, "a": "no idea"}, 70)
    assert all_wrong.points == 0
    assert not any(s.correct for s in all_wrong.per_question.values())


def test_the_pass_mark_itself_passes():
    questions = [dict(SINGLE, points=1), dict(TRUE_FALSE, points=1)]
    assert score_attempt(questions, {"s": "c2"}, 50).passed is True
    assert score_attempt(questions, {"s": "c2"}, 50.01).passed is False

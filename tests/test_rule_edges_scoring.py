"""Edges of the scoring rules that mutation testing showed no test pinned: refused answer shapes and their
messages, limits, numbers as people type them, defaults of a question, and totals that keep their decimals."""

from __future__ import annotations

import re

import pytest

from lms.quizzes.scoring import (
    SHORT_ANSWER_MAX_LENGTH,
    AnswerInvalid,
    is_choice_selected,
    normalize_answer,
    parse_number,
    score_attempt,
    score_question,
)

SINGLE = {
    "id": "s", "type": "single", "points": 1,
    "choices": [{"id": "c1", "correct": True}, {"id": "c2", "correct": False}],
}  # fmt: skip
MULTIPLE = {
    "id": "m", "type": "multiple", "points": 1, "partial_credit": "per_choice",
    "choices": [{"id": "c1", "correct": True}, {"id": "c2", "correct": False}, {"id": "c3", "correct": True}],
}  # fmt: skip
TRUE_FALSE_TRUE = {"id": "t", "type": "true_false", "points": 1, "answer": True}
SHORT_TEXT = {"id": "a", "type": "short", "points": 1, "accept": ["return on investment"]}

SINGLE_REFUSED = "That choice is not one of this question's options."
NOT_A_LIST = "Send the selected options as a list."
UNKNOWN_OPTION = "One of the selected options is not in this question."
NOT_TRUE_OR_FALSE = "Answer true or false."
NOT_TEXT = "Type your answer as text."


def refusal(question: dict, raw: object) -> str:
    with pytest.raises(AnswerInvalid) as caught:
        normalize_answer(question, raw)
    return str(caught.value)


# -- answers that cannot be answers, and what the student is told ----------------------------------------------


@pytest.mark.parametrize(
    ("question", "raw", "message"),
    [
        (SINGLE, "c9", SINGLE_REFUSED),
        (SINGLE, 1, SINGLE_REFUSED),
        (MULTIPLE, 5, NOT_A_LIST),  # a raw number is not a selection
        (MULTIPLE, {"c1": True}, NOT_A_LIST),  # nor is a mapping, though its keys are choice ids
        (MULTIPLE, ["c1", 3], NOT_A_LIST),
        (MULTIPLE, ("c1",), NOT_A_LIST),
        (MULTIPLE, ["c1", "c9"], UNKNOWN_OPTION),
        (TRUE_FALSE_TRUE, "yes", NOT_TRUE_OR_FALSE),
        (TRUE_FALSE_TRUE, 1, NOT_TRUE_OR_FALSE),
        (SHORT_TEXT, ["return"], NOT_TEXT),
        (SHORT_TEXT, False, NOT_TEXT),
    ],
)
def test_answers_that_cannot_fit_are_refused_with_the_message_the_student_sees(question, raw, message):
    assert refusal(question, raw) == message


def test_a_choice_question_without_choices_refuses_every_choice_instead_of_failing():
    bare = {"id": "s", "type": "single", "points": 1}
    assert refusal(bare, "c1") == SINGLE_REFUSED
    assert refusal(dict(bare, type="multiple"), ["c1"]) == UNKNOWN_OPTION


def test_an_unknown_question_type_is_named_in_the_refusal():
    assert refusal({"id": "x", "type": "essay", "points": 1}, "text") == "Unknown question type 'essay'."


def test_an_empty_selection_sent_as_an_empty_string_is_no_selection():
    assert normalize_answer(MULTIPLE, "") == []


@pytest.mark.parametrize(("raw", "expected"), [(" TRUE ", True), ("false", False), (True, True)])
def test_true_false_reads_booleans_and_their_words(raw, expected):
    assert normalize_answer(TRUE_FALSE_TRUE, raw) is expected


def test_short_answers_are_refused_only_past_the_limit():
    assert SHORT_ANSWER_MAX_LENGTH == 500
    at_limit = "x" * SHORT_ANSWER_MAX_LENGTH
    assert normalize_answer(SHORT_TEXT, at_limit) == at_limit
    assert normalize_answer(SHORT_TEXT, f"  {at_limit}  ") == at_limit  # spaces around do not count
    assert refusal(SHORT_TEXT, at_limit + "x") == "Keep the answer under 500 characters."


def test_a_number_typed_into_a_short_answer_is_kept_as_text():
    assert normalize_answer(SHORT_TEXT, 42) == "42"


# -- numbers as people type them -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("10\u00a0000", 10000.0),  # a non-breaking space between thousands, as word processors insert
        ("\u00a012,5\u00a0", 12.5),
        ("1__000", 1000.0),  # underscores are dropped wherever they are, not only where Python allows them
        ("12,34,567.89", 1234567.89),  # a comma with a decimal point is grouping, whatever the group size
        ("1,5e3", 1500.0),
        ("12.5.1", None),
    ],
)
def test_parse_number_reads_what_people_paste(text, value):
    assert parse_number(text) == value


# -- question defaults and the limits of a right answer --------------------------------------------------------


def test_a_true_false_question_whose_answer_is_true():
    assert score_question(TRUE_FALSE_TRUE, True).points == 1
    assert score_question(TRUE_FALSE_TRUE, False).points == 0


def test_a_number_question_without_tolerance_wants_the_exact_number():
    question = {"id": "n", "type": "short", "points": 1, "number": 10}
    assert score_question(question, "10").points == 1
    assert score_question(question, "10.0000000001").points == 1  # float noise, not a different answer
    assert score_question(question, "11").points == 0
    assert score_question(question, "9.99").points == 0


def test_the_float_slack_of_a_number_is_a_billionth_inclusive_and_grows_with_the_target():
    zero = {"id": "n", "type": "short", "points": 1, "number": 0, "tolerance": 0}
    assert score_question(zero, "0.000000001").points == 1  # exactly the slack: still right
    assert score_question(zero, "0.0000000015").points == 0
    billion = {"id": "n", "type": "short", "points": 1, "number": 1_000_000_000, "tolerance": 0}
    assert score_question(billion, "1000000000.5").points == 1  # a billionth of the target
    assert score_question(billion, "1000000002").points == 0


def test_a_multiple_choice_question_without_a_rule_is_all_or_nothing():
    question = {key: value for key, value in MULTIPLE.items() if key != "partial_credit"}
    assert score_question(question, ["c1", "c3"]).points == 1
    assert score_question(question, ["c1"]).points == 0  # per_choice would give 2/3


@pytest.mark.parametrize(
    ("question", "message"),
    [
        (dict(MULTIPLE, partial_credit="bonus"), "unknown partial credit rule 'bonus'"),
        ({"id": "x", "type": "essay", "points": 1}, "unknown question type 'essay'"),
    ],
)
def test_scoring_a_question_the_checker_would_refuse_fails_loudly(question, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        score_question(question, ["c1"])


# -- points and totals keep their decimals ---------------------------------------------------------------------


def test_question_points_keep_four_decimals():
    # One of three choices judged right: a third of a point, stored as 0.3333 (not 0.33333, not 0).
    assert score_question(MULTIPLE, ["c2", "c3"]).points == 0.3333


def test_attempt_totals_keep_their_decimals():
    questions = [dict(SINGLE, points=2.5), dict(TRUE_FALSE_TRUE, points=1.25)]
    score = score_attempt(questions, {"s": "c1"}, 50)
    assert (score.points, score.max_points, score.percent, score.passed) == (2.5, 3.75, 66.67, True)


def test_full_marks_are_100_percent_when_points_have_more_than_four_decimals():
    question = dict(SINGLE, points=0.12345)
    score = score_attempt([question], {"s": "c1"}, 100)
    assert (score.points, score.max_points, score.percent, score.passed) == (0.1235, 0.1235, 100.0, True)


def test_an_attempt_without_questions_scores_nothing_and_does_not_pass():
    score = score_attempt([], {}, 50)
    assert (score.points, score.max_points, score.percent, score.passed) == (0, 0, 0.0, False)


# -- what the review page marks as chosen ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "answer", "choice", "selected"),
    [
        (SINGLE, "c1", "c1", True),
        (SINGLE, "c1", "c2", False),
        (SINGLE, None, "c1", False),
        (MULTIPLE, ["c1", "c3"], "c3", True),
        (MULTIPLE, ["c1", "c3"], "c2", False),
        (MULTIPLE, None, "c1", False),
        (MULTIPLE, [], "c1", False),
        (TRUE_FALSE_TRUE, True, "c1", False),  # no choices to mark
        (SHORT_TEXT, "c1", "c1", False),
    ],
)
def test_is_choice_selected(question, answer, choice, selected):
    assert is_choice_selected(question, answer, choice) is selected

"""Numbers as people type them: percentages, currencies in either locale's separators, ordinals; a question may
state its unit; text answers ignore trailing punctuation. A table of inputs, then the scoring and the quiz file."""

from __future__ import annotations

import pytest

from lms.quizzes.numbers import canonical_unit, parse_number, read_number
from lms.quizzes.scoring import score_question
from tests.test_quiz_support import check_files, quiz_toml


@pytest.mark.parametrize(
    ("text", "value"),
    [
        # percentages
        ("70%", 70.0),
        ("70 %", 70.0),
        ("70\u00a0%", 70.0),
        ("70 percent", 70.0),
        ("70 per cent", 70.0),
        ("12,5 %", 12.5),
        # currencies, symbol or code, before or after, either locale's separators
        ("€7,200", 7200.0),
        ("$7,200.00", 7200.0),
        ("7.200,00 €", 7200.0),
        ("7.200,00€", 7200.0),
        ("EUR 7.200,00", 7200.0),
        ("7200 EUR", 7200.0),
        ("7 200,50 €", 7200.5),
        ("US$ 7", 7.0),
        ("£1,000,000", 1000000.0),
        ("CHF 1'000", 1000.0),
        ("-$5", -5.0),
        ("$-5", -5.0),
        ("\u22125 €", -5.0),  # the typeset minus sign
        # ordinals
        ("5th", 5.0),
        ("1st", 1.0),
        ("2nd", 2.0),
        ("3rd", 3.0),
        ("21st", 21.0),
        ("5TH", 5.0),
        # which separator is the decimal one
        ("7,5", 7.5),
        ("7.5", 7.5),
        ("7,200", 7200.0),  # groups of three after a single comma: thousands (the likelier reading)
        ("7.200", 7.2),  # a single point: decimal (the likelier reading)
        ("0,500", 0.5),  # a leading 0 is never a thousands group
        ("0.500", 0.5),
        ("1.000.000", 1000000.0),
        ("1.000.000,5", 1000000.5),
        ("1,000,000.5", 1000000.5),
        ("12,34,567", 1234567.0),  # Indian grouping
        (".5", 0.5),
        ("+3", 3.0),
        # trailing sentence punctuation and surrounding spaces
        ("  42.  ", 42.0),
        ("70%.", 70.0),
        ("5th!", 5.0),
        # not a number
        ("", None),
        ("   ", None),
        ("%", None),
        ("abc", None),
        ("7-8", None),
        ("1.2.3", None),
        ("1,2,3", None),
        ("1.000,000.5", None),  # the decimal separator twice
        ("about 70", None),  # a word that is no unit
        ("70 apples", None),
        ("5e", None),
        ("5st.5", None),
        ("$7,200 EUR", None),  # two different units
        ("nan", None),
        ("1e999", None),
    ],
)
def test_numbers_as_people_type_them(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize(
    ("text", "unit", "value"),
    [
        ("70", "%", 70.0),  # the unit may be left out
        ("70%", "%", 70.0),
        ("70 percent", "%", 70.0),
        ("70 €", "%", None),  # a different unit is not the number asked for
        ("€7,200", "EUR", 7200.0),
        ("7.200,00 EUR", "€", 7200.0),
        ("7200 eur", "EUR", 7200.0),
        ("$7,200", "EUR", None),
        ("7200", "EUR", 7200.0),
        ("3 kg", "kg", 3.0),  # any unit the question states, compared as written
        ("3 KG", "kg", 3.0),
        ("3 lb", "kg", None),
        ("5th", "%", 5.0),  # an ordinal suffix is no unit
    ],
)
def test_a_question_may_state_its_unit(text, unit, value):
    assert parse_number(text, unit) == value


def test_a_separator_that_could_be_either_keeps_both_readings():
    assert read_number("7.200").readings == (7.2, 7200.0)
    assert read_number("7,200").readings == (7200.0, 7.2)
    assert read_number("-7,200").readings == (-7200.0, -7.2)
    assert read_number("7,5").readings == (7.5,)
    assert read_number("7.200,00").readings == (7200.0,)
    assert read_number("1.000.000").readings == (1000000.0,)
    assert read_number("1234.567").readings == (1234.567,)  # four digits before: no grouping
    assert read_number("0,500").readings == (0.5,)


def test_what_is_read_besides_the_value():
    assert read_number("7.200,00 €") is not None and read_number("7.200,00 €").unit == "EUR"
    assert read_number("5th").ordinal and read_number("5th").unit is None
    assert not read_number("5").ordinal
    assert read_number("1e3").value == 1000.0
    assert read_number("-0").value == 0.0
    assert (
        canonical_unit("  Per   Cent ") == "%"
        and canonical_unit("usd") == "USD"
        and canonical_unit("") is None
    )


PERCENT = {"id": "p", "type": "short", "points": 2, "number": 70, "tolerance": 0, "unit": "%"}
BUDGET = {"id": "b", "type": "short", "points": 1, "number": 7200, "tolerance": 50, "unit": "EUR"}
ORDINAL = {"id": "o", "type": "short", "points": 1, "number": 5, "tolerance": 0}
WORDS = {"id": "w", "type": "short", "points": 1, "accept": ["Return on investment", "ROI"]}


@pytest.mark.parametrize(
    ("question", "answer", "points"),
    [
        (PERCENT, "70%", 2),
        (PERCENT, "70 %", 2),
        (PERCENT, "70", 2),
        (PERCENT, "70 €", 0),
        (PERCENT, "71%", 0),
        (BUDGET, "€7,200", 1),
        (BUDGET, "7.200,00 €", 1),
        (BUDGET, "7.249,99 €", 1),  # within the tolerance
        (BUDGET, "7.251 €", 0),  # 7.251 or 7251: neither within the tolerance
        (BUDGET, "7.200 €", 1),  # 7.2 or 7200, as a German writes it: the reading that fits counts
        (BUDGET, "7 200", 1),
        (BUDGET, "$7,200.00", 0),
        (ORDINAL, "5th", 1),
        (ORDINAL, "5", 1),
        (ORDINAL, "6th", 0),
        (WORDS, "ROI.", 1),
        (WORDS, "  return on investment!  ", 1),
        (WORDS, "Return on investment?!", 1),
        (WORDS, "ROI is it", 0),
        (WORDS, ".", 0),
    ],
)
def test_typed_answers_score_as_meant(question, answer, points):
    assert score_question(question, answer).points == points


def test_an_accepted_text_written_with_a_full_stop_still_matches():
    question = {"id": "w", "type": "short", "points": 1, "accept": ["Goals first."]}
    assert score_question(question, "goals first").points == 1


SHORT_WITH = """
[[questions]]
id = "share"
type = "short"
points = 1
prompt = "What share?"
{extra}
"""


def _problems(tmp_path, extra: str) -> list[str]:
    text = quiz_toml(draw=1).split("[[questions]]")[0] + SHORT_WITH.format(extra=extra)
    return [p.message for p in check_files(tmp_path / "quizzes", {"basics-quiz": text}).problems]


def test_the_quiz_file_states_the_unit_with_the_number(tmp_path):
    assert _problems(tmp_path, 'number = 70\nunit = "%"') == []
    assert any("unit only goes with number" in m for m in _problems(tmp_path, 'accept = ["x"]\nunit = "%"'))
    assert any("unit must be a short text" in m for m in _problems(tmp_path, "number = 70\nunit = 5"))
    assert any("unit must be a short text" in m for m in _problems(tmp_path, 'number = 70\nunit = "  "'))

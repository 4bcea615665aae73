"""Reading Moodle question banks (GIFT, Moodle XML): each supported type mapped onto our kinds, every unsupported
one listed where it is, malformed files refused with their line, and hostile XML refused. Pure: no app."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms.quizzes.importing.commands import read_bank
from lms.quizzes.importing.gift import read_gift
from lms.quizzes.importing.mapping import map_bank
from lms.quizzes.importing.model import BankError
from lms.quizzes.importing.moodle_xml import read_moodle_xml
from lms.quizzes.importing.text import to_plain

BANKS = Path(__file__).parent / "fixtures" / "question_banks"
GIFT = BANKS / "social-media-basics.gift"
XML = BANKS / "social-media-basics.xml"


def by_id(path: Path, fmt: str):
    imported = read_bank(path, fmt)
    return {q["id"]: q for q in imported.questions}, imported


def test_gift_single_choice_with_feedback_and_a_half_right_answer_noted():
    questions, imported = by_id(GIFT, "gift")
    q = questions["strategy-first-step"]
    assert q["type"] == "single"
    assert q["feedback"] == "A strategy serves the organization's goals."
    assert [(c["text"], c["correct"]) for c in q["choices"]] == [
        ("A clear business goal", True), ("The most popular platform", False),
        ("A posting calendar", False), ("A competitor review", False),
    ]  # fmt: skip
    assert q["choices"][0]["feedback"] == "Right: goals first, tools later."  # "\:" is a colon
    assert any("line 6 'Strategy first step'" in n and "'A competitor review'" in n for n in imported.notes)
    assert imported.categories[0] == "$course$/top/Social media basics"


def test_gift_multiple_answers_map_moodle_weights_to_right_minus_wrong():
    questions, imported = by_id(GIFT, "gift")
    owned = questions["owned-channels"]
    assert owned["type"] == "multiple" and owned["partial_credit"] == "right_minus_wrong"
    assert [c["correct"] for c in owned["choices"]] == [True, True, False, False]
    assert not any("'Owned channels'" in n for n in imported.notes)  # 50/50/-50/-50 is exactly that rule
    listening = questions["listening-tools"]
    assert listening["prompt"] == "Which of these listen to conversations?"  # [html] turned into text
    assert any("'Listening tools'" in n and "no exact rule" in n for n in imported.notes)


def test_gift_true_false_short_and_numerical():
    questions, imported = by_id(GIFT, "gift")
    reach = questions["reach-is-people"]
    assert reach["type"] == "true_false" and reach["answer"] is True
    # GIFT gives the wrong answer's feedback first: true is right here, so "Right: ..." is the true one.
    assert "If you answered true: Right: reach counts each account once." in reach["feedback"]
    assert "If you answered false: Reach is unique accounts." in reach["feedback"]
    assert questions["frequency-myth"]["answer"] is False
    roi = questions["roi-abbreviation"]
    assert roi["type"] == "short" and roi["accept"] == ["return on investment"]
    assert any("'ROI abbreviation'" in n and "'return'" in n for n in imported.notes)
    rate = questions["engagement-rate"]
    assert (rate["number"], rate["tolerance"], rate["feedback"]) == (12, 0.1, "1176 / 9800 x 100 = 12 %.")
    ranged = questions["ratio-range"]
    assert (ranged["number"], ranged["tolerance"]) == (3, 1)


def test_gift_missing_word_and_escapes():
    questions, _ = by_id(GIFT, "gift")
    missing = questions["missing-word"]
    assert missing["prompt"] == "The {first} step of a strategy is setting a _____ before anything else."
    assert [c["text"] for c in missing["choices"] if c["correct"]] == ["goal"]
    escaped = questions["escaped-characters"]
    assert escaped["prompt"] == "Which formula is right: a = b ~ c?"
    assert [c["text"] for c in escaped["choices"]] == ["1 # 2", "3 {4}"]


def test_gift_unsupported_types_are_listed_with_their_line():
    _, imported = by_id(GIFT, "gift")
    assert [(s.where, s.kind, s.name) for s in imported.skipped] == [
        ("line 48", "essay", "Essay on strategy"),
        ("line 50", "matching", "Match platforms"),
        ("line 56", "description", "Welcome"),
    ]
    lines = GIFT.read_text().splitlines()
    assert lines[47].startswith("::Essay on strategy::") and lines[49].startswith("::Match platforms::")


def test_xml_each_type_with_html_converted_and_points():
    questions, imported = by_id(XML, "moodle-xml")
    kpi = questions["kpi-definition"]
    assert kpi["type"] == "single" and kpi["points"] == 2 and kpi["prompt"] == "What is a KPI?"
    assert kpi["feedback"] == "A KPI is tied to a goal & measured over time."
    assert kpi["choices"][0] == {
        "text": "A measure tied to a business goal",
        "correct": True,
        "feedback": "Right.",
    }
    vanity = questions["vanity-metrics"]
    assert (
        vanity["type"] == "multiple" and vanity["prompt"] == "Which are vanity metrics?\n\n- Pick every one"
    )
    ctr = questions["ctr-denominator"]
    assert ctr["type"] == "true_false" and ctr["answer"] is True
    cvr = questions["conversion-abbreviation"]
    assert cvr["accept"] == ["conversion rate", "conversion-rate"]
    assert any("question 5 'Conversion abbreviation'" in n and "case" in n for n in imported.notes)
    num = questions["campaign-conversion-rate"]
    assert (num["number"], num["tolerance"], num["unit"]) == (6.23, 0.02, "%")
    assert "Any other answer: Divide conversions by clicks." in num["feedback"]
    assert set(imported.categories) == {"$course$/top/Measurement"}


def test_xml_unsupported_types_are_listed_with_index_type_and_name():
    _, imported = by_id(XML, "moodle-xml")
    assert [str(s) for s in imported.skipped] == [
        "question 7: essay 'Reflect on a campaign' skipped: essays are graded by hand",
        "question 8: multianswer 'Cloze metrics' skipped: embedded answers (Cloze) are not a type of ours",
        "question 9: ddwtos 'Drag the funnel' skipped: type 'ddwtos' is not a type of ours",
    ]


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("::a::Question one {=yes ~no}\n\n::b::Question two\n{=yes ~no\n", "line 4", "never closed"),
        ("Question {=yes ~no} and {=again}", "line 1", "second set of answers"),
        ("Question } here", "line 1", "without an opening"),
        ("::n::What number? {#abc}", "line 1", "is not a number"),
        ("Pick {~%x%a ~b}", "line 1", "weight %x% is not a number"),
        ("Pick {maybe}", "line 1", "cannot tell"),
        ("::unclosed name Pick {=a ~b}", "line 1", "never closed with '::'"),
    ],
)
def test_malformed_gift_names_the_line(text, where, words):
    with pytest.raises(BankError) as caught:
        read_gift(text)
    assert any(w == where and words in message for w, message in caught.value.problems), caught.value.problems


def test_a_question_that_nothing_of_ours_fits_is_skipped_with_the_reason():
    imported = map_bank(read_gift("::half::Pick one {=%50%a ~b}\n\n::ok::Pick {=a ~b}"))
    assert [q["id"] for q in imported.questions] == ["ok"]
    assert [(s.where, s.reason) for s in imported.skipped] == [
        ("line 1", "a one-answer question needs exactly one answer worth 100 %, it has 0")
    ]


def test_malformed_xml_names_the_line():
    with pytest.raises(BankError) as caught:
        read_moodle_xml(b"<quiz>\n<question type='truefalse'>\n</quiz>")
    assert caught.value.problems[0][0] == "line 3"
    with pytest.raises(BankError) as caught:
        read_moodle_xml(b"<quiz><question type='numerical'><questiontext><text>x</text></questiontext>"
                        b"<answer fraction='100'><text>twelve</text></answer></question></quiz>")  # fmt: skip
    assert caught.value.problems == [("question 1", "numerical answer 'twelve' is not a number")]


@pytest.mark.parametrize(
    "payload",
    [
        # billion laughs
        b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b"<quiz><question type='description'><name><text>&b;</text></name></question></quiz>",
        # XXE: an external entity reading a local file
        b'<?xml version="1.0"?><!DOCTYPE quiz [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<quiz><question type='description'><name><text>&x;</text></name></question></quiz>",
    ],
)
def test_hostile_xml_is_refused_not_expanded(payload):
    with pytest.raises(BankError) as caught:
        read_moodle_xml(payload)
    assert "refused" in caught.value.problems[0][1]


def test_moodle_text_formats():
    assert to_plain("<p>One &amp; two<br>three</p><p>Four <a href='https://x.test/'>link</a></p>", "html")[
        0
    ] == ("One & two\nthree\n\nFour link (https://x.test/)")
    text, notes = to_plain('<p>See <img src="@@PLUGINFILE@@/chart.png" alt="chart"></p>', "html")
    assert text == "See [image: chart]" and "chart.png" in notes[0]
    assert to_plain("Line one\nline <b>two</b>", "moodle")[0] == "Line one\nline two"
    assert to_plain("AT&amp;T", "moodle_auto_format")[0] == "AT&T"
    assert to_plain("a <b> c", "plain")[0] == "a <b> c"


def test_xml_single_defaults_to_one_answer_and_negative_marks_are_noted():
    xml = (
        b"<quiz><question type='multichoice'><name><text>Neg</text></name>"
        b"<questiontext format='plain_text'><text>Pick</text></questiontext>"
        b"<answer fraction='100'><text>a</text></answer><answer fraction='-50'><text>b</text></answer>"
        b"</question></quiz>"
    )
    imported = map_bank(read_moodle_xml(xml))
    assert imported.questions[0]["type"] == "single"  # no <single>: Moodle reads it as true
    assert imported.notes == [
        "question 1 'Neg': Moodle's negative marks for wrong answers are not taken: a wrong answer earns 0"
    ]

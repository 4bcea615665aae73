"""A Moodle bank's questions as our quiz questions, said honestly: where Moodle can say something our kinds
cannot (a half-right choice in a one-answer question, a partly right short answer, weights that no partial
credit rule of ours gives), the question comes in with the nearest rule of ours and a note saying what changed;
where nothing of ours is near (no answer worth full marks), it is skipped with the reason. Pure."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from lms.quizzes.importing.model import Bank, Item, Skipped

FULL = 100.0
_ID_CHARS = re.compile(r"[^a-z0-9]+")


@dataclass
class Imported:
    questions: list[dict[str, Any]] = field(default_factory=list)  # as written in a quiz file (no choice ids)
    categories: list[str | None] = field(default_factory=list)  # each question's Moodle category
    notes: list[str] = field(default_factory=list)  # "line 12 'name': what changed"
    skipped: list[Skipped] = field(default_factory=list)


class NotImportable(ValueError):
    pass


def _full(fraction: float) -> bool:
    return math.isclose(fraction, FULL, abs_tol=0.01)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def question_id(name: str, taken: set[str], index: int) -> str:
    """A question's id from its Moodle name (letters, digits, hyphens), unique in the file."""
    base = _ID_CHARS.sub("-", name.lower()).strip("-")[:60].strip("-") or f"q{index}"
    qid, n = base, 2
    while qid in taken:
        qid, n = f"{base}-{n}", n + 1
    taken.add(qid)
    return qid


def _fold(general: str, parts: list[tuple[str, str]]) -> str:
    """Per-answer feedback our kind cannot show per answer, added to the general feedback with its answer."""
    extra = [f"{label}: {text}" for label, text in parts if text]
    return "\n\n".join([general, *extra] if general else extra)


def _choices(item: Item, question: dict[str, Any], notes: list[str]) -> None:
    answers = item.answers
    if item.single:
        right = [a for a in answers if _full(a.fraction)]
        if len(right) != 1:
            raise NotImportable(
                f"a one-answer question needs exactly one answer worth 100 %, it has {len(right)}"
            )
        partial = [a.text for a in answers if not _full(a.fraction) and a.fraction > 0]
        if partial:
            notes.append(f"partly right answers count as wrong here: {', '.join(map(repr, partial))}")
        if any(a.fraction < 0 for a in answers):
            notes.append("Moodle's negative marks for wrong answers are not taken: a wrong answer earns 0")
        question["type"] = "single"
        question["choices"] = [
            {"text": a.text, "correct": _full(a.fraction)} | ({"feedback": a.feedback} if a.feedback else {})
            for a in answers
        ]
        return
    right = [a for a in answers if a.fraction > 0]
    if not right:
        raise NotImportable("a multiple-answer question needs an answer worth more than 0 %")
    rule = item.ours.get("partial_credit")
    share = FULL / len(right)
    exact = all(math.isclose(a.fraction, share, abs_tol=0.01) for a in right) and all(
        math.isclose(a.fraction, -share, abs_tol=0.01) for a in answers if a.fraction <= 0
    )
    if rule is None:
        rule = "right_minus_wrong"
        if not exact:
            weights = ", ".join(f"{a.fraction:g} %" for a in answers)
            notes.append(f"Moodle's weights ({weights}) have no exact rule of ours: scored as right_minus_wrong "
                         f"(each right choice adds 1/{len(right)}, each wrong one takes 1/{len(right)} off, "
                         "at least 0)")  # fmt: skip
    question["type"] = "multiple"
    question["partial_credit"] = rule
    question["choices"] = [
        {"text": a.text, "correct": a.fraction > 0} | ({"feedback": a.feedback} if a.feedback else {})
        for a in answers
    ]


def _short(item: Item, question: dict[str, Any], notes: list[str]) -> None:
    right = [a for a in item.answers if _full(a.fraction)]
    if not right:
        raise NotImportable("no answer is worth 100 %")
    partial = [a.text for a in item.answers if not _full(a.fraction) and a.fraction > 0]
    if partial:
        notes.append(f"partly right answers are not accepted here: {', '.join(map(repr, partial))}")
    if item.case_sensitive:
        notes.append("Moodle compared case; our short answers ignore it")
    if any("*" in a.text for a in right):
        notes.append("'*' is a wildcard in Moodle; here it must be typed as written")
    question["type"] = "short"
    question["accept"] = [a.text for a in right]
    question["feedback"] = _fold(
        question["feedback"], [(f"Answer {a.text}", a.feedback) for a in item.answers]
    )


def _numerical(item: Item, question: dict[str, Any], notes: list[str]) -> None:
    right = [a for a in item.answers if _full(a.fraction) and a.text.strip() != "*"]
    if not right:
        raise NotImportable("no numerical answer is worth 100 %")
    if len(right) > 1:
        notes.append(f"only the first right number is kept ({right[0].text}); others: "
                     + ", ".join(a.text for a in right[1:]))  # fmt: skip
    others = [a for a in item.answers if a is not right[0]]
    if any(a.fraction > 0 and not _full(a.fraction) for a in others):
        notes.append("partly right numbers count as wrong here")
    answer = right[0]
    question["type"] = "short"
    question["number"] = _number(float(answer.text))
    question["tolerance"] = _number(answer.tolerance)
    unit = item.ours.get("unit")
    base = [name for name, multiplier in item.units if math.isclose(multiplier, 1.0) and name]
    if unit is None and base:
        unit = base[0]
        if len(item.units) > 1:
            notes.append(f"only the unit {unit!r} is kept; Moodle's others and their multipliers are not")
    if unit is not None:
        if len(unit) > 20:
            notes.append(f"the unit {unit!r} is too long for our quiz files (20 characters): left out")
        else:
            question["unit"] = unit
    labelled = [(f"Answer {a.text}", a.feedback) for a in item.answers if a.text.strip() != "*"]
    question["feedback"] = _fold(question["feedback"], labelled + [
        ("Any other answer", a.feedback) for a in item.answers if a.text.strip() == "*"
    ])  # fmt: skip


def _true_false(item: Item, question: dict[str, Any]) -> None:
    question["type"] = "true_false"
    question["answer"] = bool(item.truth)
    question["feedback"] = _fold(
        question["feedback"],
        [("If you answered true", item.true_feedback), ("If you answered false", item.false_feedback)],
    )


def map_bank(bank: Bank) -> Imported:
    """Our questions for the bank's importable items, with the notes and the ones skipped (the parser's too)."""
    result = Imported(skipped=list(bank.skipped))
    taken: set[str] = set()
    for index, item in enumerate(bank.items, start=1):
        notes = list(item.notes)
        label = f"{item.where}{f' {item.name!r}' if item.name else ''}"
        if not item.prompt:
            result.skipped.append(Skipped(item.where, item.kind, item.name, "the question text is empty"))
            continue
        question: dict[str, Any] = {"id": "", "type": "", "points": 1, "prompt": item.prompt,
                                    "feedback": item.feedback}  # fmt: skip
        points = item.ours.get("points", item.points)
        if points is not None:
            if points > 0:
                question["points"] = _number(float(points))
            else:
                notes.append(f"a mark of {points:g} is not above 0: counted as 1 point")
        try:
            if item.kind == "multichoice":
                _choices(item, question, notes)
            elif item.kind == "truefalse":
                _true_false(item, question)
            elif item.kind == "shortanswer":
                _short(item, question, notes)
            else:
                _numerical(item, question, notes)
        except NotImportable as error:
            result.skipped.append(Skipped(item.where, item.kind, item.name, str(error)))
            continue
        question["id"] = question_id(item.name, taken, index)
        if not question["feedback"]:
            del question["feedback"]
        result.questions.append(question)
        result.categories.append(item.category)
        result.notes.extend(f"{label}: {note}" for note in dict.fromkeys(notes))
    return result

"""Is this answer right, and how many points is it worth: pure functions, no database, no clock.

A question is the dict stored in a quiz version (see spec.py); an answer is what `normalize_answer` returns:
single -> a choice id, multiple -> a list of choice ids, true_false -> a bool, short -> a string; None when
the question was left unanswered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from lms.quizzes.numbers import matches_number, parse_number

__all__ = [
    "AnswerInvalid", "AttemptScore", "QuestionScore", "is_choice_selected", "normalize_answer", "parse_number",
    "score_attempt", "score_question",
]  # fmt: skip

SHORT_ANSWER_MAX_LENGTH = 500
_TRAILING_PUNCTUATION = ".!?;:,"


class AnswerInvalid(ValueError):
    """The answer does not fit the question (an unknown choice, a list for a single choice ...)."""


@dataclass(frozen=True)
class QuestionScore:
    points: float
    max_points: float

    @property
    def correct(self) -> bool:
        return self.max_points > 0 and math.isclose(self.points, self.max_points)


@dataclass(frozen=True)
class AttemptScore:
    points: float
    max_points: float
    percent: float
    passed: bool
    per_question: dict[str, QuestionScore]


def _choice_ids(question: dict[str, Any]) -> list[str]:
    return [choice["id"] for choice in question.get("choices", [])]


def normalize_answer(question: dict[str, Any], raw: Any) -> Any:
    """The answer in its stored shape, or None when empty; AnswerInvalid when it cannot be an answer here."""
    kind = question["type"]
    if kind == "single":
        if raw is None or raw == "":
            return None
        if not isinstance(raw, str) or raw not in _choice_ids(question):
            raise AnswerInvalid("That choice is not one of this question's options.")
        return raw
    if kind == "multiple":
        if raw is None or raw == "":
            return []
        values = [raw] if isinstance(raw, str) else raw
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise AnswerInvalid("Send the selected options as a list.")
        known = _choice_ids(question)
        if any(v not in known for v in values):
            raise AnswerInvalid("One of the selected options is not in this question.")
        chosen = set(values)
        return [choice_id for choice_id in known if choice_id in chosen]
    if kind == "true_false":
        if raw is None or raw == "":
            return None
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, str) and raw.strip().lower() in {"true", "false"}:
            return raw.strip().lower() == "true"
        raise AnswerInvalid("Answer true or false.")
    if kind == "short":
        if raw is None:
            return None
        if isinstance(raw, bool) or not isinstance(raw, str | int | float):
            raise AnswerInvalid("Type your answer as text.")
        text = str(raw).strip()
        if len(text) > SHORT_ANSWER_MAX_LENGTH:
            raise AnswerInvalid(f"Keep the answer under {SHORT_ANSWER_MAX_LENGTH} characters.")
        return text or None
    raise AnswerInvalid(f"Unknown question type {kind!r}.")


def _canonical_text(text: str) -> str:
    """Text compared as meant: case, runs of spaces and trailing punctuation ("ROI." is "roi") do not count."""
    # Equivalent mutant (another joiner): both sides of the comparison are joined alike, so the same texts match.
    joined = " ".join(text.split()).casefold()  # pragma: no mutate
    return joined.rstrip(_TRAILING_PUNCTUATION).rstrip()


def _fraction(question: dict[str, Any], answer: Any) -> float:
    """The share of the question's points earned, 0..1."""
    kind = question["type"]
    if answer is None:
        return 0.0
    if kind == "single":
        correct = {c["id"] for c in question["choices"] if c["correct"]}
        return 1.0 if answer in correct else 0.0
    if kind == "true_false":
        return 1.0 if answer is bool(question["answer"]) else 0.0
    if kind == "short":
        if "number" in question:
            target, tolerance = float(question["number"]), float(question.get("tolerance", 0))
            return 1.0 if matches_number(answer, target, tolerance, question.get("unit")) else 0.0
        accepted = {_canonical_text(a) for a in question["accept"]}
        return 1.0 if _canonical_text(answer) in accepted else 0.0
    if kind == "multiple":
        if not answer:
            return 0.0  # nothing selected earns nothing, whatever the rule
        chosen = set(answer)
        correct = {c["id"] for c in question["choices"] if c["correct"]}
        rule = question.get("partial_credit", "all_or_nothing")
        if rule == "all_or_nothing":
            return 1.0 if chosen == correct else 0.0
        if rule == "right_minus_wrong":
            right = len(chosen & correct)
            wrong = len(chosen - correct)
            return max(0.0, (right - wrong) / len(correct))
        if rule == "per_choice":
            choices = _choice_ids(question)
            judged_right = sum(1 for cid in choices if (cid in chosen) == (cid in correct))
            return judged_right / len(choices)
        raise ValueError(f"unknown partial credit rule {rule!r}")
    raise ValueError(f"unknown question type {kind!r}")


def score_question(question: dict[str, Any], answer: Any) -> QuestionScore:
    points = float(question["points"])
    return QuestionScore(points=round(points * _fraction(question, answer), 4), max_points=points)


def score_attempt(
    questions: list[dict[str, Any]], answers: dict[str, Any], pass_percent: float
) -> AttemptScore:
    """Score the questions an attempt showed, with its answers by question id (missing: unanswered)."""
    per_question = {q["id"]: score_question(q, answers.get(q["id"])) for q in questions}
    points = round(sum(s.points for s in per_question.values()), 4)
    max_points = round(sum(s.max_points for s in per_question.values()), 4)
    percent = round(100 * points / max_points, 2) if max_points else 0.0
    return AttemptScore(
        points=points,
        max_points=max_points,
        percent=percent,
        passed=percent + 1e-9 >= pass_percent,
        per_question=per_question,
    )


def is_choice_selected(question: dict[str, Any], answer: Any, choice_id: str) -> bool:
    if question["type"] == "single":
        return answer == choice_id
    if question["type"] == "multiple":
        return choice_id in (answer or [])
    return False

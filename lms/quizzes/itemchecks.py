"""Item-writing checks over the quiz files: the cues a test-wise student uses without knowing the subject (the
longest option, "all of the above", all but one ticked, a number given away elsewhere) and items met twice (the
same stem in two quizzes of a track; a module quiz sharing an item with the final). Pure: they read parsed
QuizSpecs and return warnings as (path, line, message); `lms check-content --strict` makes them errors."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from lms.quizzes.spec import QuizSpec

LONGEST_SHARE = 0.35  # at most this share of a bank's single-choice items may have the longest option correct
LENGTH_RATIO = 1.5  # a correct option longer than this times the mean of its distractors stands out
NEAR_DUPLICATE = 0.9  # stems at least this similar (difflib ratio of their normalized words) count as one
_ABOVE = re.compile(r"\b(all|none|both|neither) of (the )?(above|these|the options)\b", re.I)
_WORDS = re.compile(r"[^a-z0-9]+")

ItemWarning = tuple[Path, int, str]


def _name(question: dict[str, Any]) -> str:
    return f"question {question['id']!r}"


def _text_length(choice: dict[str, Any]) -> int:
    return len(choice.get("text", "").strip())


def _line(spec: QuizSpec, i: int, key: str | None = None) -> int:
    return spec.lines.question_line(i, key) if spec.lines else 1


def _choice_line(spec: QuizSpec, i: int, j: int) -> int:
    return spec.lines.choice_line(i, j) if spec.lines else 1


def longest_is_correct(question: dict[str, Any]) -> bool:
    """Whether the one correct option is longer than every distractor (a tie gives nothing away)."""
    choices = question.get("choices") or []
    correct = [_text_length(c) for c in choices if c["correct"]]
    wrong = [_text_length(c) for c in choices if not c["correct"]]
    return len(correct) == 1 and bool(wrong) and correct[0] > max(wrong)


def check_quiz_items(spec: QuizSpec) -> list[ItemWarning]:
    """The checks within one file: per item, and the share of longest-correct items in the bank."""
    warnings: list[ItemWarning] = []
    singles = longest = 0
    for i, question in enumerate(spec.questions):
        choices = question.get("choices") or []
        for j, choice in enumerate(choices):
            if _ABOVE.search(choice.get("text", "")):
                warnings.append((spec.path, _choice_line(spec, i, j),
                                 f'{_name(question)}: avoid "{_ABOVE.search(choice["text"]).group()}": it is '
                                 "answerable from two options without knowing the rest"))  # fmt: skip
        if question["type"] == "single" and len(choices) >= 2:
            singles += 1
            longest += longest_is_correct(question)
            correct = [_text_length(c) for c in choices if c["correct"]]
            wrong = [_text_length(c) for c in choices if not c["correct"]]
            mean_wrong = sum(wrong) / len(wrong) if wrong else 0
            if len(correct) == 1 and mean_wrong and correct[0] > LENGTH_RATIO * mean_wrong:
                warnings.append((spec.path, _line(spec, i),
                                 f"{_name(question)}: the correct option ({correct[0]} characters) is more than "
                                 f"{LENGTH_RATIO}x the mean length of its distractors ({mean_wrong:.0f})"))  # fmt: skip
        if question["type"] == "multiple" and len(choices) >= 3:
            n_correct = sum(1 for c in choices if c["correct"])
            if n_correct == len(choices) - 1:
                warnings.append((spec.path, _line(spec, i),
                                 f"{_name(question)}: every option but one is correct, so ticking all but the "
                                 "odd one out scores without knowing the subject"))  # fmt: skip
    if singles and longest / singles > LONGEST_SHARE:
        warnings.append((spec.path, spec.lines.top_line("title") if spec.lines else 1,
                         f"the correct option is the longest in {longest} of {singles} single-choice items "
                         f"({100 * longest / singles:.0f} %, at most {100 * LONGEST_SHARE:.0f} %): picking the "
                         "longest option scores without knowing the subject"))  # fmt: skip
    warnings.extend(_numbers_given_away(spec))
    return warnings


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _numbers_given_away(spec: QuizSpec) -> list[ItemWarning]:
    """A numeric answer that is a distractor of another item of the bank: reading that item tells it."""
    warnings: list[ItemWarning] = []
    for question in spec.questions:
        if question["type"] != "short" or "number" not in question:
            continue
        token = re.compile(rf"(?<![\d.]){re.escape(_number_text(question['number']))}(?![\d]|\.\d)")
        for i, other in enumerate(spec.questions):
            for j, choice in enumerate(other.get("choices") or []):
                if other is not question and not choice["correct"] and token.search(choice.get("text", "")):
                    warnings.append((spec.path, _choice_line(spec, i, j),
                                     f"{_name(other)}: the distractor {choice['text']!r} gives away the answer of "
                                     f"{_name(question)} ({_number_text(question['number'])})"))  # fmt: skip
    return warnings


def normalized_stem(prompt: str) -> str:
    return " ".join(_WORDS.split(prompt.lower())).strip()


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return (
        matcher.real_quick_ratio() >= NEAR_DUPLICATE
        and matcher.quick_ratio() >= NEAR_DUPLICATE
        and matcher.ratio() >= NEAR_DUPLICATE
    )


def check_track_stems(specs: Iterable[QuizSpec]) -> list[ItemWarning]:
    """Duplicate or near-duplicate stems among the quizzes of one track (quizzes drawing from a bank aside): a
    module quiz must never share an item with the final, and a repeated stem is one item counted twice."""
    items = [
        (spec, i, question, normalized_stem(question.get("prompt", "")))
        for spec in specs
        if spec.bank is None
        for i, question in enumerate(spec.questions)
        if not question.get("retired")
    ]
    warnings: list[ItemWarning] = []
    for n, (spec, i, question, stem) in enumerate(items):
        for other_spec, k, other, other_stem in items[:n]:
            if not stem or not _similar(stem, other_stem):
                continue
            where = f"{_name(other)} in {other_spec.path.name} (line {_line(other_spec, k)})"
            kinds = {spec.kind, other_spec.kind}
            if kinds == {"module", "final"}:
                message = (
                    f"{_name(question)}: module quizzes never share items with the final; it repeats {where}"
                )
            else:
                message = f"{_name(question)}: its stem duplicates {where}"
            warnings.append((spec.path, _line(spec, i, "prompt"), message))
            break
    return warnings


def check_items(specs: Iterable[QuizSpec]) -> list[ItemWarning]:
    """Every item-writing check over every quiz file, the stems compared within each track."""
    by_track: dict[str, list[QuizSpec]] = {}
    warnings: list[ItemWarning] = []
    for spec in specs:
        by_track.setdefault(spec.track, []).append(spec)
        if spec.bank is None:
            warnings.extend(check_quiz_items(spec))
    for track_specs in by_track.values():
        warnings.extend(check_track_stems(track_specs))
    return sorted(warnings, key=lambda w: (str(w[0]), w[1], w[2]))

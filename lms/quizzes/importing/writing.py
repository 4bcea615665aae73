"""Our questions written as a quiz file (quizzes/*.toml, see quizzes/README.md), with the settings given and each
Moodle category as a `# Moodle category:` comment above its questions (read back by `categories_of`). Pure."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

CATEGORY_COMMENT = "# Moodle category: "
_QUESTION_KEYS = ("id", "type", "points", "prompt", "feedback", "partial_credit", "answer", "accept", "number",
                  "tolerance", "unit", "module", "difficulty", "retired")  # fmt: skip


@dataclass(frozen=True)
class QuizSettings:
    title: str
    track: str
    module: str | None
    kind: str = "module"
    time_limit_minutes: int = 10
    attempts_allowed: int = 3
    pass_percent: int | float = 70
    draw: int | None = None  # default: every question


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # A JSON string is a TOML basic string, but for DEL, which TOML wants escaped.
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def render_quiz(settings: QuizSettings, questions: list[dict[str, Any]], categories: list[str | None],
                source: str = "") -> str:  # fmt: skip
    lines = [f"# Imported from {source} by `lms import-questions`." if source else "# Imported questions.",
             "", f"title = {toml_value(settings.title)}", f"track = {toml_value(settings.track)}"]  # fmt: skip
    if settings.module:
        lines.append(f"module = {toml_value(settings.module)}")
    lines += [
        f"kind = {toml_value(settings.kind)}",
        f"time_limit_minutes = {settings.time_limit_minutes}",
        f"attempts_allowed = {settings.attempts_allowed}",
        f"pass_percent = {toml_value(settings.pass_percent)}",
        'grading = "highest"',
        "shuffle_questions = true",
        "shuffle_choices = true",
        f"draw = {settings.draw or len(questions)}",
        'review = "correct_answers"',
    ]
    current: str | None = None
    for question, category in zip(questions, categories, strict=True):
        lines.append("")
        if category and category != current:
            lines.append(CATEGORY_COMMENT + category.replace("\n", " "))
        current = category or current
        lines.append("[[questions]]")
        lines += [f"{key} = {toml_value(question[key])}" for key in _QUESTION_KEYS if key in question]
        for choice in question.get("choices", []):
            lines += ["", "[[questions.choices]]", f"text = {toml_value(choice['text'])}",
                      f"correct = {toml_value(choice['correct'])}"]  # fmt: skip
            if choice.get("feedback"):
                lines.append(f"feedback = {toml_value(choice['feedback'])}")
    return "\n".join(lines) + "\n"


_QUESTIONS_TABLE = re.compile(r"^\s*\[\[\s*questions\s*\]\]")


def categories_of(text: str) -> list[str | None]:
    """The Moodle category of each [[questions]] of a quiz file, from the comments `render_quiz` writes."""
    result: list[str | None] = []
    current: str | None = None
    for line in text.splitlines():
        if line.startswith(CATEGORY_COMMENT):
            current = line[len(CATEGORY_COMMENT) :].strip() or None
        elif _QUESTIONS_TABLE.match(line):
            result.append(current)
    return result

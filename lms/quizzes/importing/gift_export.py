"""Our quiz questions written as GIFT, for Moodle (and for `import-questions` again, which reads back the same
quiz). What GIFT cannot say is written where Moodle ignores it, in a `// lms:` comment: points, a multiple
choice's partial credit rule (Moodle gets the nearest weights, each right choice 100/n %, each wrong one -100/n %)
and a number's unit. Texts are written as [plain]-format text, their GIFT characters escaped. Pure."""

from __future__ import annotations

from typing import Any

_SPECIAL = str.maketrans({"\\": "\\\\", "~": "\\~", "=": "\\=", "#": "\\#", "{": "\\{", "}": "\\}", ":": "\\:",
                          "\n": "\\n"})  # fmt: skip


def escape(text: str) -> str:
    return text.strip().replace("\r\n", "\n").translate(_SPECIAL)


def _weight(value: float) -> str:
    return f"{value:.5f}".rstrip("0").rstrip(".")


def _feedback(text: str | None) -> str:
    return f"#{escape(text)}" if text else ""


def _number(value: Any) -> str:
    return repr(float(value))


def _answers(question: dict[str, Any]) -> str:
    kind = question["type"]
    if kind == "true_false":
        return "TRUE" if question["answer"] else "FALSE"
    if kind == "short" and "number" in question:
        return f"#{_number(question['number'])}:{_number(question.get('tolerance', 0))}"
    if kind == "short":
        return " ".join(f"={escape(text)}" for text in question["accept"])
    choices = question["choices"]
    if kind == "single":
        return " ".join(("=" if c["correct"] else "~") + escape(c["text"]) + _feedback(c.get("feedback"))
                        for c in choices)  # fmt: skip
    right = sum(1 for c in choices if c["correct"])
    share = _weight(100 / right)
    return " ".join(f"~%{share if c['correct'] else '-' + share}%" + escape(c["text"]) + _feedback(c.get("feedback"))
                    for c in choices)  # fmt: skip


def _ours(question: dict[str, Any]) -> str:
    ours = []
    if question.get("points", 1) != 1:
        ours.append(f"points = {question['points']!r}")
    if question["type"] == "multiple" and question.get("partial_credit") != "right_minus_wrong":
        ours.append(f'partial_credit = "{question["partial_credit"]}"')
    if question.get("unit"):
        ours.append("unit = " + '"' + question["unit"].replace("\\", "\\\\").replace('"', '\\"') + '"')
    return f"// lms: {', '.join(ours)}\n" if ours else ""


def export_gift(questions: list[dict[str, Any]], categories: list[str | None], source: str = "") -> str:
    """The questions as a GIFT text, each under its Moodle category when it has one."""
    parts = [f"// Exported from {source} by `lms export-questions`." if source else "// Exported questions."]
    current: str | None = None
    for question, category in zip(questions, categories, strict=True):
        if category and category != current:
            parts.append(f"$CATEGORY: {category}")
            current = category
        feedback = f"####{escape(question['feedback'])}" if question.get("feedback") else ""
        parts.append(f"{_ours(question)}::{escape(question['id'])}::[plain]{escape(question['prompt'])} "
                     f"{{{_answers(question)}{feedback}}}")  # fmt: skip
    return "\n\n".join(parts) + "\n"

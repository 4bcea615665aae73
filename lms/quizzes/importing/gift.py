"""Reading Moodle's GIFT format (https://docs.moodle.org/en/GIFT_format) into a Bank, as Moodle's own reader does:
questions are separated by blank lines, `//` starts a comment line, `$CATEGORY:` sets the category of the
questions after it, `::name::` names a question, `[html]`, `[moodle]`, `[plain]` or `[markdown]` gives its text
format, and the answers sit in `{...}`, with text after them making a "missing word" question. `\\~ \\= \\# \\{
\\} \\:` are the characters themselves, `\\n` a line break. A `// lms: points = 2, unit = "%"` comment in a
question carries our own settings that GIFT cannot say (written by `gift_export`; Moodle ignores it). Pure."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from lms.quizzes.importing.model import Answer, Bank, BankError, Item, Skipped
from lms.quizzes.importing.text import to_plain

_ESCAPES = {"\\\\": "\ue000", "\\~": "\ue001", "\\=": "\ue002", "\\#": "\ue003", "\\{": "\ue004",
            "\\}": "\ue005", "\\:": "\ue006", "\\n": "\ue007"}  # fmt: skip
_RESTORE = str.maketrans({"\ue000": "\\", "\ue001": "~", "\ue002": "=", "\ue003": "#", "\ue004": "{",
                          "\ue005": "}", "\ue006": ":", "\ue007": "\n"})  # fmt: skip
_NAME = re.compile(r"\s*::(.*?)::", re.S)
_FORMAT = re.compile(r"\s*\[(html|moodle|plain|markdown)\]", re.I)
_WEIGHT = re.compile(r"\s*%([^%]*)%")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
OUR_KEYS = {"points": (int, float), "partial_credit": str, "unit": str}


def _protect(text: str) -> str:
    for escaped, placeholder in _ESCAPES.items():
        text = text.replace(escaped, placeholder)
    return text


def _restore(text: str) -> str:
    return text.translate(_RESTORE)


class _Block:
    """One question's lines: its text (escapes protected), first line, and `// lms:` settings."""

    def __init__(self) -> None:
        self.lines: list[tuple[int, str]] = []
        self.ours: list[tuple[int, str]] = []

    @property
    def first_line(self) -> int:
        return self.lines[0][0]


def _blocks(text: str) -> list[_Block]:
    blocks, current = [], _Block()
    for number, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("//"):
            if stripped[2:].lstrip().startswith("lms:"):
                current.ours.append((number, stripped[2:].lstrip()[4:]))
            continue
        if not stripped:
            if current.lines:
                blocks.append(current)
                current = _Block()
            continue
        if stripped.startswith("$CATEGORY:") and current.lines:
            blocks.append(current)
            current = _Block()
        current.lines.append((number, line))
    if current.lines:
        blocks.append(current)
    return blocks


class GiftReader:
    def __init__(self) -> None:
        self.bank = Bank()
        self.problems: list[tuple[str, str]] = []
        self.category: str | None = None

    def error(self, line: int, message: str) -> None:
        self.problems.append((f"line {line}", message))

    def read(self, text: str) -> Bank:
        for block in _blocks(text):
            self._block(block)
        if self.problems:
            raise BankError(self.problems)
        return self.bank

    def _block(self, block: _Block) -> None:
        _, first = block.lines[0]
        if first.strip().startswith("$CATEGORY:"):
            self.category = _restore(_protect(first.strip()[len("$CATEGORY:") :])).strip() or None
            block.lines = block.lines[1:]
            if not block.lines:
                return
        start = block.first_line
        full = text = _protect("\n".join(line for _, line in block.lines))
        errors_before = len(self.problems)
        name, fmt = "", "moodle"
        match = _NAME.match(text)
        if match:
            name, text = _restore(match[1]).strip(), text[match.end() :]
        elif text.lstrip().startswith("::"):
            self.error(start, "the question name opened with '::' is never closed with '::'")
            return
        match = _FORMAT.match(text)
        if match:
            fmt, text = match[1].lower(), text[match.end() :]
        offset = len(full) - len(text)  # where the text left starts, to count lines in it

        def line_at(pos: int) -> int:
            return start + full[: offset + pos].count("\n")

        opening = text.find("{")
        closing = text.find("}")
        if opening < 0:
            if closing >= 0:
                self.error(line_at(closing), "'}' without an opening '{' (write \\} for the character)")
            else:
                self.bank.skipped.append(
                    Skipped(f"line {start}", "description", name, "a text with no answers is not a question")
                )
            return
        closing = text.find("}", opening)
        if closing < 0:
            self.error(line_at(opening), "the answers opened with '{' are never closed with '}'")
            return
        if "{" in text[opening + 1 : closing]:
            self.error(line_at(opening), "'{' inside the answers (write \\{ for the character)")
            return
        after = text[closing + 1 :]
        if "{" in after or "}" in after:
            self.error(line_at(closing + 1), "a second set of answers: one question has one '{...}'")
            return
        prompt = text[:opening].strip()
        if after.strip():
            prompt = f"{prompt} _____ {after.strip()}"
        item = Item(kind="", where=f"line {start}", name=name, prompt="", category=self.category)
        item.prompt = self._text(prompt, fmt, item)
        item.ours = self._ours(block)
        answers = text[opening + 1 : closing]
        if "####" in answers:
            answers, general = answers.split("####", 1)
            item.feedback = self._text(general, fmt, item)
        self._answers(item, answers.strip(), fmt, line_at(opening))
        if item.kind and len(self.problems) == errors_before:
            self.bank.items.append(item)

    def _text(self, text: str, fmt: str, item: Item) -> str:
        plain, notes = to_plain(_restore(text), fmt)
        item.notes.extend(notes)
        return plain

    def _ours(self, block: _Block) -> dict[str, Any]:
        ours: dict[str, Any] = {}
        for line, body in block.ours:
            try:
                values = tomllib.loads(f"v = {{{body.strip()}}}")["v"]
            except tomllib.TOMLDecodeError as error:
                self.error(line, f"'// lms:' settings must be TOML like points = 2, unit = \"%\" ({error})")
                continue
            for key, value in values.items():
                if key not in OUR_KEYS or not isinstance(value, OUR_KEYS[key]) or isinstance(value, bool):
                    self.error(
                        line, f"'// lms:' knows points (a number), partial_credit and unit, not {key!r}"
                    )
                else:
                    ours[key] = value
        return ours

    def _answers(self, item: Item, answers: str, fmt: str, line: int) -> None:
        head = answers.split("#", 1)[0].strip().upper()
        if not answers:
            self.bank.skipped.append(Skipped(item.where, "essay", item.name, "essays are graded by hand"))
        elif answers.startswith("=") and "->" in answers:
            self.bank.skipped.append(
                Skipped(item.where, "matching", item.name, "matching is not a type of ours")
            )
        elif answers.startswith("#"):
            item.kind = "numerical"
            item.answers = self._numbers(answers[1:], line, item)
        elif head in _TRUE_FALSE:
            item.kind, item.truth = "truefalse", _TRUE_FALSE[head]
            feedback = [self._text(part, fmt, item) for part in answers.split("#")[1:3]] + ["", ""]
            # GIFT gives the feedback for the wrong answer first, then the one for the right answer.
            wrong, right = feedback[0], feedback[1]
            item.true_feedback, item.false_feedback = (right, wrong) if item.truth else (wrong, right)
        elif "~" in answers or answers.startswith("="):
            item.kind = "multichoice" if "~" in answers else "shortanswer"
            item.single = "=" in answers
            item.answers = self._choices(answers, fmt, line, item)
        else:
            self.error(line, "cannot tell the answers' type: start them with =, ~ or #, or write T or F")
            return

    def _segments(self, answers: str, line: int) -> list[tuple[str, float | None, str]]:
        """Each answer as (marker, weight or None, body)."""
        parts = re.split(r"(?=[=~])", answers)
        if parts[0].strip():
            self.error(line, f"text before the first answer: {_restore(parts[0]).strip()!r}")
        segments = []
        for part in parts[1:]:
            marker, body = part[0], part[1:]
            weight = None
            match = _WEIGHT.match(body)
            if match:
                try:
                    weight = float(match[1])
                except ValueError:
                    self.error(line, f"answer weight %{_restore(match[1])}% is not a number")
                    weight = 0.0
                if not -100 <= weight <= 100:
                    self.error(line, f"answer weight %{match[1]}% is not between -100 and 100")
                body = body[match.end() :]
            segments.append((marker, weight, body))
        return segments

    def _choices(self, answers: str, fmt: str, line: int, item: Item) -> list[Answer]:
        result = []
        for marker, weight, body in self._segments(answers, line):
            text, _, feedback = body.partition("#")
            if weight is None:
                weight = 100.0 if marker == "=" else 0.0
            answer_text = self._text(text, fmt, item)
            if not answer_text:
                self.error(line, "an answer is empty")
            result.append(Answer(answer_text, weight, self._text(feedback, fmt, item)))
        if not result:
            self.error(line, "no answers between '{' and '}'")
        return result

    def _numbers(self, answers: str, line: int, item: Item) -> list[Answer]:
        segments = self._segments(answers, line) if re.search(r"[=~]", answers) else [("=", 100.0, answers)]
        result = []
        for marker, weight, body in segments:
            value, _, feedback = body.partition("#")
            value = _restore(value).strip()
            if weight is None:
                weight = 100.0 if marker == "=" else 0.0
            try:
                if ".." in value:
                    low, high = (float(x) for x in value.split("..", 1))
                    number, tolerance = (low + high) / 2, abs(high - low) / 2
                elif ":" in value:
                    number, tolerance = (float(x) for x in value.split(":", 1))
                else:
                    number, tolerance = float(value), 0.0
            except ValueError:
                self.error(line, f"numerical answer {value!r} is not a number, number:tolerance or min..max")
                continue
            result.append(Answer(repr(number), weight, self._text(feedback, "moodle", item), abs(tolerance)))
        if not result and not self.problems:
            self.error(line, "a numerical question needs an answer after '#'")
        return result


def read_gift(text: str) -> Bank:
    """The bank in a GIFT text; BankError with every malformed question's line."""
    return GiftReader().read(text)

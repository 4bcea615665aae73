"""Content as files: the registry of checkers and loaders behind `lms check-content` and `lms sync-content`.

Each feature registers a `ContentKind`: `check` reads its files and reports every problem at once (file and line);
`sync` writes the checked content to the database. Kinds run in registration order, so a later kind (quizzes) can
use what an earlier one (courses) found, through the shared `ContentSet`.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_left
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lms.extensions import db


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Change:
    """One item's fate in a sync: created, updated, unchanged or retired."""

    kind: str  # "track", "module", "lesson", "quiz", ...
    key: str  # a readable identity: "social-media-strategist/why-strategies-fail"
    action: str  # "created" | "updated" | "unchanged" | "retired"

    def __str__(self) -> str:
        return f"{self.action:<9} {self.kind:<10} {self.key}"


@dataclass
class ContentSet:
    """What the checkers parsed, handed from one kind to the next and then to the loaders."""

    courses_dir: Path
    quizzes_dir: Path
    parsed: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    # What a reviewer should look at but that loads fine (item-writing cues, small pools); --strict refuses them.
    warnings: list[Problem] = field(default_factory=list)

    def relative(self, path: Path) -> str:
        for root in (self.courses_dir.parent, self.quizzes_dir.parent):
            try:
                return str(path.resolve().relative_to(root.resolve()))
            except ValueError:
                continue
        return str(path)

    def problem(self, path: Path, line: int, message: str) -> None:
        self.problems.append(Problem(self.relative(path), max(line, 1), message))

    def warning(self, path: Path, line: int, message: str) -> None:
        self.warnings.append(Problem(self.relative(path), max(line, 1), message))


@dataclass(frozen=True)
class ContentKind:
    name: str
    check: Callable[[ContentSet], None]  # parses files into content.parsed[name], reports problems
    sync: Callable[[ContentSet], list[Change]]  # writes parsed content with db.session (no commit)


CONTENT_KINDS: list[ContentKind] = []


def register_content_kind(kind: ContentKind) -> None:
    if all(existing.name != kind.name for existing in CONTENT_KINDS):
        CONTENT_KINDS.append(kind)


def check_content(courses_dir: Path, quizzes_dir: Path) -> ContentSet:
    """Parse and validate every kind of content; problems are collected, never raised."""
    content = ContentSet(courses_dir=courses_dir, quizzes_dir=quizzes_dir)
    for kind in CONTENT_KINDS:
        kind.check(content)
    content.problems.sort()
    content.warnings.sort()
    return content


class ContentInvalid(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the content")
        self.problems = problems


def sync_content(courses_dir: Path, quizzes_dir: Path) -> list[Change]:
    """Check, then load everything in one transaction; a failing check writes nothing."""
    content = check_content(courses_dir, quizzes_dir)
    if content.problems:
        raise ContentInvalid(content.problems)
    changes: list[Change] = []
    try:
        for kind in CONTENT_KINDS:
            changes.extend(kind.sync(content))
        if any(change.action != "unchanged" for change in changes):
            db.session.commit()
        else:
            db.session.rollback()
    except Exception:
        db.session.rollback()
        raise
    return changes


# ---------------------------------------------------------------------------------------------------------------
# Where keys sit in a TOML text: tomllib gives values, not lines, and every problem names its line.


def toml_key_lines(text: str, *, array_items: bool = False) -> dict[str, int]:
    """Map each table and key to the line it is written on, by dotted path: "title", "completion.quizzes",
    "modules.2" (the third [[modules]] table), "modules.2.slug", "questions.0.choices.1" (the second
    [[questions.choices]] of the first question). The first occurrence wins. Keys inside strings, arrays and inline
    tables are not counted; with `array_items`, each item of an array value is mapped too ("levels.1")."""
    return _TomlLineScanner(text, array_items).scan()


def toml_line(lines: Mapping[str, int], path: str) -> int:
    """The line of `path` in a toml_key_lines() mapping, else of the nearest table or key around it; else 1."""
    while path not in lines and "." in path:
        path = path.rsplit(".", 1)[0]
    return lines.get(path, 1)


_TOML_POSITION = re.compile(r"\(at line (\d+), column \d+\)")


def toml_error(error: tomllib.TOMLDecodeError, text: str) -> tuple[int, str]:
    """Where a TOML syntax error is (an error at the end of the document is on the last line) and what it says,
    without the position."""
    message = str(error)
    match = _TOML_POSITION.search(message)
    if match:
        return int(match.group(1)), message[: match.start()].strip()
    if "end of document" in message:
        return max(1, len(text.splitlines())), message.replace(
            "(at end of document)", "at the end of the file"
        )
    return 1, message


@dataclass(frozen=True)
class FrontMatter:
    """A Markdown file's "+++" TOML front matter, read: its data, each key's line in the file, and the lines of the
    file (the body starts at lines[body_index], which is line body_index + 1)."""

    data: dict[str, Any]
    key_lines: dict[str, int]
    lines: list[str]
    body_index: int


def read_front_matter(content: ContentSet, path: Path, text: str, expected: str) -> FrontMatter | None:
    """Parse the "+++" front matter that starts `text`, reporting each problem with its line; None when it cannot
    be read. `expected` says what the front matter holds ("a lesson starts with ...")."""
    lines = text.split("\n")
    if lines[0].strip() != "+++":
        content.problem(path, 1, f'no front matter: {expected}, then another "+++" line')
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "+++"), None)
    if end is None:
        content.problem(path, 1, 'the front matter is never closed: add a "+++" line after it')
        return None
    front = "\n".join(lines[1:end])
    try:
        data = tomllib.loads(front)
    except tomllib.TOMLDecodeError as error:
        line, message = toml_error(error, front)
        content.problem(path, line + 1, f"front matter TOML syntax error: {message}")
        return None
    key_lines = {key: line + 1 for key, line in toml_key_lines(front).items()}
    return FrontMatter(data, key_lines, lines, end + 1)


_SPACE = re.compile(r"[ \t]*")
_BLANK = re.compile(r"(?:[ \t\r\n]|#[^\n]*)*")  # between array items: spaces, newlines, comments
_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"?' r"|'[^'\n]*'?")  # on one line; an unclosed one ends there
_MULTILINE_STRING = re.compile(
    r'"""(?:[^"\\]|\\.|"(?!""))*(?:"{3,5}|\\?\Z)' r"|'''(?:[^']|'(?!''))*(?:'{3,5}|\Z)", re.S
)
_SCALAR = re.compile(r"[^,\]}#\n]*")  # numbers, booleans, dates: up to the next delimiter


class _TomlLineScanner:
    """One pass over a TOML text, statement by statement; values are skipped whole, so nothing inside a string,
    array or inline table is taken for a key. It never raises: on broken TOML it notes what it can."""

    def __init__(self, text: str, array_items: bool) -> None:
        self.text = text
        self.array_items = array_items
        self.newlines = [match.start() for match in re.finditer("\n", text)]
        self.lines: dict[str, int] = {}

    def line_at(self, pos: int) -> int:
        return bisect_left(self.newlines, pos) + 1

    def note(self, path: tuple[str, ...], line: int) -> None:
        if path:
            self.lines.setdefault(".".join(path), line)

    def scan(self) -> dict[str, int]:
        text = self.text
        table: tuple[str, ...] = ()
        # [[array]] tables so far, by the array's resolved path ("questions.1.choices" for the second question)
        tables_in_array: dict[tuple[str, ...], int] = {}
        pos = 0
        while pos < len(text):
            pos = _SPACE.match(text, pos).end()
            line = self.line_at(pos)
            if text.startswith("[", pos):
                double = text.startswith("[[", pos)
                keys, pos = self.key(pos + (2 if double else 1))
                table = ()
                for n, key in enumerate(keys):
                    table += (key,)
                    if double and n == len(keys) - 1:
                        index = tables_in_array.get(table, 0)
                        tables_in_array[table] = index + 1
                        table += (str(index),)
                    elif table in tables_in_array:  # [a.b] after [[a]] is inside the last [[a]]
                        table += (str(tables_in_array[table] - 1),)
                    self.note(table, line)
            elif pos < len(text) and text[pos] not in "#\r\n":
                keys, pos = self.key(pos)
                pos = _SPACE.match(text, pos).end()
                if keys and text.startswith("=", pos):
                    for n in range(1, len(keys) + 1):  # a.b = 1 also writes table a
                        self.note(table + keys[:n], line)
                    path = table + keys if self.array_items else None
                    pos = self.value(_SPACE.match(text, pos + 1).end(), path)
            end = text.find("\n", pos)  # what is left of the line is a comment (or broken)
            pos = len(text) if end == -1 else end + 1
        return self.lines

    def key(self, pos: int) -> tuple[tuple[str, ...], int]:
        """A dotted key (bare or quoted parts), and the position after it."""
        text, keys = self.text, []
        while True:
            pos = _SPACE.match(text, pos).end()
            quoted = _STRING.match(text, pos)
            bare = _BARE_KEY.match(text, pos)
            if quoted:
                keys.append(_unquote(quoted.group()))
                pos = quoted.end()
            elif bare:
                keys.append(bare.group())
                pos = bare.end()
            else:
                break
            after = _SPACE.match(text, pos).end()
            if not text.startswith(".", after):
                break
            pos = after + 1
        return tuple(keys), pos

    def value(self, pos: int, path: tuple[str, ...] | None) -> int:
        """The position after the value starting at pos; array items are noted under `path` when it is given."""
        text = self.text
        match = _MULTILINE_STRING.match(text, pos) or _STRING.match(text, pos)
        if match:
            return match.end()
        if text.startswith("[", pos):
            return self.array(pos + 1, path)
        if text.startswith("{", pos):
            return self.inline_table(pos + 1)
        return _SCALAR.match(text, pos).end()

    def array(self, pos: int, path: tuple[str, ...] | None) -> int:
        text, index = self.text, 0
        while True:
            pos = _BLANK.match(text, pos).end()
            if pos >= len(text) or text[pos] == "]":
                return pos + 1
            start = pos
            item = None if path is None else (*path, str(index))
            if item is not None:
                self.note(item, self.line_at(pos))
            pos = _BLANK.match(text, self.value(pos, item)).end()
            index += 1
            if text.startswith(",", pos) or pos == start:  # a comma, or something that is no value: step over
                pos += 1

    def inline_table(self, pos: int) -> int:
        text = self.text
        while True:
            pos = _BLANK.match(text, pos).end()
            if pos >= len(text) or text[pos] == "}":
                return pos + 1
            start = pos
            _, pos = self.key(pos)
            pos = _SPACE.match(text, pos).end()
            if text.startswith("=", pos):
                pos = self.value(_SPACE.match(text, pos + 1).end(), None)
            pos = _BLANK.match(text, pos).end()
            if text.startswith(",", pos) or pos == start:
                pos += 1


def _unquote(key: str) -> str:
    """A quoted key as tomllib reads it, escapes and all."""
    try:
        return next(iter(tomllib.loads(f"{key} = 0")))
    except tomllib.TOMLDecodeError:
        return key.strip("\"'")

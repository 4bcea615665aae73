"""Reading a bulk-enrolment CSV (pure: bytes in, rows or a file-level problem out; no database).

The file: UTF-8 (a byte-order mark is fine), a header row naming the columns `email`, `name`, `track` and the
optional `cohort` in any order and any case, cells separated by commas or semicolons (spreadsheets in many locales
save with `;`). Other columns are ignored and named in the preview. Every cell is text: a cell that looks like a
spreadsheet formula (`=SUM(A1)`) is read as those characters and nothing else.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
REQUIRED = ("email", "name", "track")
OPTIONAL = ("cohort",)
MAX_EMAIL = 254
MAX_NAME = 200
MAX_CELL = 1000  # a longer cell is a mistake (a whole paragraph pasted in), refused before any lookup
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class RosterFileError(ValueError):
    """The file as a whole cannot be read: the message says why, for the person who uploaded it."""


@dataclass(frozen=True)
class ParsedRow:
    line: int  # the line of the file the row starts on (the header is line 1)
    email: str
    name: str
    track: str
    cohort: str
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParsedFile:
    rows: list[ParsedRow]
    ignored_columns: tuple[str, ...] = field(default=())


def _decode(data: bytes) -> str:
    if not data.strip():
        raise RosterFileError("The file is empty: it needs a header row (email,name,track,cohort) and rows.")
    if len(data) > MAX_BYTES:
        raise RosterFileError(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB: split it into smaller files."
        )
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise RosterFileError(
            f"The file holds binary data (line {line}), not CSV text: save it as “CSV UTF-8” and upload it again."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise RosterFileError(
            f"The file is not UTF-8 text (line {line}): save it as “CSV UTF-8” and upload it again."
        ) from error


def _delimiter(header: str) -> str:
    """Semicolons when the header uses them and no comma; commas otherwise."""
    return ";" if header.count(";") > header.count(",") else ","


def _columns(header: list[str]) -> tuple[dict[str, int], tuple[str, ...]]:
    names = [cell.strip().lower() for cell in header]
    positions: dict[str, int] = {}
    ignored: list[str] = []
    for index, name in enumerate(names):
        if name in REQUIRED or name in OPTIONAL:
            if name in positions:
                raise RosterFileError(f"The header names the column “{name}” twice.")
            positions[name] = index
        elif name:
            ignored.append(header[index].strip())
    missing = [name for name in REQUIRED if name not in positions]
    if missing:
        raise RosterFileError(
            f"The header row lacks {', '.join(missing)}: the first row must name the columns "
            "email, name, track and (optionally) cohort."
        )
    return positions, tuple(ignored)


def _clean(value: str) -> str:
    return " ".join(value.split())


def _row(line: int, cells: list[str], positions: dict[str, int]) -> ParsedRow:
    def cell(name: str) -> str:
        index = positions.get(name)
        return _clean(cells[index]) if index is not None and index < len(cells) else ""

    email, name, track, cohort = cell("email").lower(), cell("name"), cell("track"), cell("cohort")
    problems: list[str] = []
    if any(len(value) > MAX_CELL for value in cells):
        problems.append(f"a cell is longer than {MAX_CELL} characters")
    if not email:
        problems.append("no email")
    elif len(email) > MAX_EMAIL or not _EMAIL.fullmatch(email):
        problems.append(f"“{email[:80]}” is not an email address")
    if len(name) > MAX_NAME:
        problems.append(f"the name is longer than {MAX_NAME} characters")
    if not track:
        problems.append("no track")
    if len(cohort) > 100:
        problems.append("the cohort name is longer than 100 characters")
    return ParsedRow(line, email, name, track, cohort, tuple(problems))


def parse_roster(data: bytes) -> ParsedFile:
    """The file's rows in order, each with the problems found in the row itself (duplicates are found later, once
    tracks are known). Blank lines are skipped. RosterFileError for the file as a whole."""
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line), strict=True)
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            raise RosterFileError("The first row must name the columns email, name, track and cohort.")
        positions, ignored = _columns(header)
        rows: list[ParsedRow] = []
        line = reader.line_num + 1
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise RosterFileError(
                    f"The file has more than {MAX_ROWS:,} rows: split it into files of at most {MAX_ROWS:,}."
                )
            rows.append(_row(start, cells, positions))
    except csv.Error as error:
        raise RosterFileError(f"Line {reader.line_num}: the file is not valid CSV ({error}).") from error
    if not rows:
        raise RosterFileError("The file has a header row but no rows.")
    return ParsedFile(rows, ignored)

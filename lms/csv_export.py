"""CSV downloads a spreadsheet opens as plain text: every cell defused, the text produced line by line.

A cell that starts with "=", "+", "-" or "@" (or a tab or carriage return, which some spreadsheets skip before
reading a formula) is run as a formula when the file is opened: a name typed as `=HYPERLINK(...)` would become a
link in a staff member's spreadsheet. Such a cell gets a leading apostrophe, which spreadsheets read as "this is
text" and do not show (OWASP, "CSV Injection"). Every other cell is written as it is.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse_cell(value: object) -> str:
    """The value as a cell a spreadsheet shows as text: None is empty, a formula-like start gets a quote."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def render_csv_lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The rows as CSV text (Excel's dialect, CRLF line ends), one line at a time, every cell defused."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([defuse_cell(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def render_csv(rows: Iterable[Iterable[object]]) -> str:
    """The rows as one CSV text, every cell defused (see render_csv_lines)."""
    return "".join(render_csv_lines(rows))

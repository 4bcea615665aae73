"""Reading a bulk-enrolment CSV (lms.roster.parsing, pure): headers, delimiters, BOM, limits, formula-like cells."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lms.roster import parsing
from lms.roster.parsing import RosterFileError, parse_roster


def test_headers_in_any_case_and_order_with_a_bom_and_semicolons():
    data = (
        "\ufeffTrack;EMAIL; Name ;Cohort;Phone\r\nstrategist;Ada@Example.org;  Ada   Lovelace ;Spring;123\r\n"
    )
    parsed = parse_roster(data.encode("utf-8"))
    [row] = parsed.rows
    assert (row.line, row.email, row.name, row.track, row.cohort) == (
        2,
        "ada@example.org",
        "Ada Lovelace",
        "strategist",
        "Spring",
    )
    assert parsed.ignored_columns == ("Phone",) and row.problems == ()


def test_the_cohort_column_is_optional_and_blank_lines_are_skipped():
    parsed = parse_roster(
        b"email,name,track\n\nada@example.org,Ada,strategist\n,,\n\ngrace@example.org,Grace,x\n"
    )
    assert [(r.line, r.email, r.cohort) for r in parsed.rows] == [
        (3, "ada@example.org", ""),
        (6, "grace@example.org", ""),
    ]


def test_a_quoted_cell_over_several_lines_keeps_the_line_it_starts_on():
    parsed = parse_roster(
        b'email,name,track\n"ada@example.org","Ada\nLovelace",strategist\nb@example.org,B,x\n'
    )
    assert [(r.line, r.name) for r in parsed.rows] == [(2, "Ada Lovelace"), (4, "B")]


def test_formula_like_cells_are_only_text():
    parsed = parse_roster(b'email,name,track\nada@example.org,"=HYPERLINK(""http://x"",""y"")",@SUM(A1)\n')
    [row] = parsed.rows
    assert row.name == '=HYPERLINK("http://x","y")' and row.track == "@SUM(A1)"
    [bad] = parse_roster(b"email,name,track\n=1+1,Eve,strategist\n").rows
    assert bad.problems == ("“=1+1” is not an email address",)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"  \n", "empty"),
        (b"name,track\nAda,strategist\n", "lacks email"),
        (b"email,name,track,email\n", "twice"),
        (b"email,name,track\n", "no rows"),
        (b"email,name,track\nada@example.org,Ad\xe9,x\n", r"not UTF-8 text \(line 2\)"),
        (b"email,name,track\nada@example.org,Ada\x00,x\n", r"binary data \(line 2\)"),
    ],
)
def test_files_that_cannot_be_read_say_why(data, message):
    with pytest.raises(RosterFileError, match=message):
        parse_roster(data)


def test_a_malformed_quote_is_a_file_error_with_its_line():
    with pytest.raises(RosterFileError, match="not valid CSV"):
        parse_roster(b'email,name,track\na@example.org,"A"x"",y\n')


def test_size_and_row_limits(monkeypatch):
    monkeypatch.setattr(parsing, "MAX_ROWS", 3)
    lines = "".join(f"p{n}@example.org,P{n},x\n" for n in range(3))
    assert len(parse_roster(f"email,name,track\n{lines}".encode()).rows) == 3
    with pytest.raises(RosterFileError, match="more than 3 rows"):
        parse_roster(f"email,name,track\n{lines}p9@example.org,P9,x\n".encode())
    monkeypatch.setattr(parsing, "MAX_BYTES", 100)
    with pytest.raises(RosterFileError, match="larger than"):
        parse_roster(b"email,name,track\n" + b"a@example.org,A,x\n" * 10)


def test_row_problems_are_listed_together():
    [row] = parse_roster(b"email,name,track\n," + b"N" * 201 + b",\n").rows
    assert row.problems == ("no email", "the name is longer than 200 characters", "no track")


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_any_bytes_give_rows_or_a_file_error_never_a_crash(data):
    try:
        parsed = parse_roster(data)
    except RosterFileError as error:
        assert str(error)
    else:
        assert parsed.rows and all(row.line >= 2 for row in parsed.rows)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_text, _text, _text, _text), min_size=1, max_size=8), st.sampled_from([",", ";"]))
def test_what_a_spreadsheet_writes_is_read_back(records, delimiter):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(["email", "name", "track", "cohort"])
    writer.writerows(records)
    kept = [r for r in records if any(cell.strip() for cell in r)]
    try:
        parsed = parse_roster(buffer.getvalue().encode())
    except RosterFileError as error:
        assert not kept and "no rows" in str(error)
        return

    def clean(value):
        return " ".join(value.split())

    assert [(r.email, r.name, r.track, r.cohort) for r in parsed.rows] == [
        (clean(e).lower(), clean(n), clean(t), clean(c)) for e, n, t, c in kept
    ]

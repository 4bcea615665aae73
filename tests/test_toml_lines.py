"""toml_key_lines(), toml_line() and toml_error(): the one way content checkers name the line of a TOML problem."""

from __future__ import annotations

import tomllib
from typing import Any

import pytest

from lms import PROJECT_ROOT
from lms.content import toml_error, toml_key_lines, toml_line


def value_at(data: Any, path: str) -> Any:
    """Follow a dotted path (list indices included) through what tomllib parsed."""
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


def test_tables_nested_tables_and_dotted_keys():
    text = (
        'title = "T"\n'  # 1
        "[completion]\n"  # 2
        'modules = "all"\n'  # 3
        "[a.b]\n"  # 4
        "c = 1\n"  # 5
        "site.owner.name = 2\n"  # 6
        "[a]\n"  # 7
        "d = 3\n"  # 8
    )
    lines = toml_key_lines(text)
    assert lines == {
        "title": 1,
        "completion": 2,
        "completion.modules": 3,
        "a": 4,  # first written (implicitly) by [a.b]; the later [a] does not move it
        "a.b": 4,
        "a.b.c": 5,
        "a.b.site": 6,
        "a.b.site.owner": 6,
        "a.b.site.owner.name": 6,
        "a.d": 8,
    }
    assert all(value_at(tomllib.loads(text), path) is not None for path in lines)


def test_arrays_of_tables_are_numbered_and_nested_arrays_restart_per_parent():
    text = (
        "[[questions]]\n"  # 1
        'id = "one"\n'  # 2
        "[[questions.choices]]\n"  # 3
        'text = "A"\n'  # 4
        "[[questions.choices]]\n"  # 5
        'text = "B"\n'  # 6
        "[[questions]]\n"  # 7
        'id = "two"\n'  # 8
        "[questions.meta]\n"  # 9: a sub-table of the second question
        "level = 1\n"  # 10
        "[[questions.choices]]\n"  # 11
        'text = "C"\n'  # 12
    )
    lines = toml_key_lines(text)
    assert lines == {
        "questions.0": 1,
        "questions.0.id": 2,
        "questions.0.choices.0": 3,
        "questions.0.choices.0.text": 4,
        "questions.0.choices.1": 5,
        "questions.0.choices.1.text": 6,
        "questions.1": 7,
        "questions.1.id": 8,
        "questions.1.meta": 9,
        "questions.1.meta.level": 10,
        "questions.1.choices.0": 11,
        "questions.1.choices.0.text": 12,
    }
    assert value_at(tomllib.loads(text), "questions.1.choices.0.text") == "C"


def test_keys_and_headers_inside_multi_line_strings_are_not_counted():
    text = (
        'prompt = """\n'  # 1
        "[[questions]]\n"
        'id = "not a key"\n'
        'still = \\"""inside, an escaped quote run\n'
        '"""\n'  # 5
        "literal = '''\n"  # 6
        "[table]\n"
        "x = 1\n"
        "'''\n"  # 9
        'ends_with_quotes = """a""""\n'  # 10: the string is a" and closes here
        'folded = """ a \\\n'  # 11: a line-ending backslash
        '  b = 2 """\n'
        "after = 3\n"  # 13
    )
    data = tomllib.loads(text)
    assert data["ends_with_quotes"] == 'a"'
    assert toml_key_lines(text) == {
        "prompt": 1,
        "literal": 6,
        "ends_with_quotes": 10,
        "folded": 11,
        "after": 13,
    }


def test_keys_brackets_and_comments_inside_multi_line_arrays_are_not_counted():
    text = (
        "levels = [\n"  # 1
        '  { name = "missing", points = 0 },  # a ] in a comment\n'
        '  ["[not a header]", "]"],\n'
        "  # title = 1\n"
        "]\n"  # 5
        "[[items]]\n"  # 6
        'name = "one"\n'  # 7
        "matrix = [[1, 2],\n"  # 8
        "  [3, 4]]\n"
        "last = 1\n"  # 10
    )
    assert toml_key_lines(text) == {
        "levels": 1,
        "items.0": 6,
        "items.0.name": 7,
        "items.0.matrix": 8,
        "items.0.last": 10,
    }


def test_quoted_keys_are_read_as_tomllib_reads_them():
    text = (
        '"quoted key" = 1\n'  # 1
        "'literal.key' = 2\n"  # 2: one key with a dot in it, written as one part
        '"esc\\u0061ped" = 3\n'  # 3
        '[ "sp ace" . inner ]\n'  # 4
        "'x' = 4\n"  # 5
    )
    data = tomllib.loads(text)
    assert set(data) == {"quoted key", "literal.key", "escaped", "sp ace"}
    assert toml_key_lines(text) == {
        "quoted key": 1,
        "literal.key": 2,
        "escaped": 3,
        "sp ace": 4,
        "sp ace.inner": 4,
        "sp ace.inner.x": 5,
    }


def test_comments_and_hashes_in_strings():
    text = (
        "# title = 0\n"  # 1
        "   # [commented]\n"  # 2
        'title = "a # b" # title = 9\n'  # 3
        "[completion]   # the rule\n"  # 4
        "quizzes = ['x#y', \"]\"]  # ]\n"  # 5
        "\n"
        "assignment = 'z'\n"  # 7
    )
    assert toml_key_lines(text) == {
        "title": 3,
        "completion": 4,
        "completion.quizzes": 5,
        "completion.assignment": 7,
    }


def test_lines_count_newlines_as_tomllib_does():
    # U+2028 and a lone form feed are line breaks to str.splitlines() but not to TOML.
    text = 'a = "x\u2028y"\r\nb = 1 # \u2028 in a comment\r\nc = ]\r\n'
    with pytest.raises(tomllib.TOMLDecodeError) as error:
        tomllib.loads(text)
    assert toml_error(error.value, text)[0] == 3
    assert toml_key_lines(text)["c"] == 3
    assert toml_key_lines(text)["b"] == 2


def test_array_items_are_numbered_only_when_asked():
    text = (
        "[[criteria]]\n"  # 1
        'slug = "goal"\n'  # 2
        "levels = [\n"  # 3
        '  { name = "missing", points = 0 },\n'  # 4
        '  { name = "weak",    points = 1 }, { name = "sound", points = 2 },\n'  # 5
        "]\n"
        'formats = ["pdf", [1,\n'  # 7
        "  2]]\n"  # 8
    )
    assert "criteria.0.levels.0" not in toml_key_lines(text)
    lines = toml_key_lines(text, array_items=True)
    assert [lines[f"criteria.0.levels.{i}"] for i in range(3)] == [4, 5, 5]
    assert "criteria.0.levels.3" not in lines
    assert "criteria.0.levels.0.name" not in lines  # keys of inline tables are not counted
    assert (
        lines["criteria.0.formats.0"],
        lines["criteria.0.formats.1"],
        lines["criteria.0.formats.1.1"],
    ) == (7, 7, 8)


def test_toml_line_falls_back_to_the_nearest_written_table():
    lines = toml_key_lines('[[questions]]\nid = "a"\n[[questions.choices]]\ntext = "x"\n')
    assert toml_line(lines, "questions.0.choices.0.text") == 4
    assert toml_line(lines, "questions.0.choices.0.correct") == 3  # missing key: its table
    assert toml_line(lines, "questions.0.choices.5.text") == 1  # missing table: the question
    assert toml_line(lines, "questions.3.id") == 1  # nothing written: line 1
    assert toml_line({"questions": 7}, "questions.3.id") == 7


def test_toml_errors_name_their_line_and_the_end_of_the_file():
    text = 'title = "x"\ntrack = \n'
    with pytest.raises(tomllib.TOMLDecodeError) as error:
        tomllib.loads(text)
    assert toml_error(error.value, text) == (2, "Invalid value")
    unclosed = 'title = "x"\nlevels = [\n  1,\n'
    with pytest.raises(tomllib.TOMLDecodeError) as error:
        tomllib.loads(unclosed)
    line, message = toml_error(error.value, unclosed)
    assert (line, message) == (3, "Invalid value at the end of the file")


@pytest.mark.parametrize(
    "broken",
    ['a = "unclosed\nb = 1\n', "a = [1,\n", 'a = """never closed\n[t]\n', "[t\nb = {x = 1,\n", "= 3\n[]\n"],
)
def test_broken_toml_never_raises_and_keeps_what_it_can(broken):
    lines = toml_key_lines(broken, array_items=True)
    assert all(1 <= line <= broken.count("\n") + 1 for line in lines.values())
    if broken.startswith("a"):
        assert lines["a"] == 1


def test_every_mapped_path_exists_in_the_real_content():
    tracks = sorted((PROJECT_ROOT / "courses").glob("*/track.toml"))
    files = tracks + sorted((PROJECT_ROOT / "quizzes").glob("*.toml"))
    assert len(files) >= 10
    for path in files:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
        lines = toml_key_lines(text, array_items=True)
        written = text.split("\n")
        for key, line in lines.items():
            value_at(data, key)  # raises when the path is not in the parsed data
            leaf = key.rsplit(".", 1)[-1]
            if not leaf.isdigit():
                assert leaf in written[line - 1], (path.name, key, line)

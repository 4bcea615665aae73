"""Made-up ids are a clean 404, never a 500: every route with an integer in its path, walked with ids beyond what
the databases hold (2**31 on PostgreSQL, 2**63 on SQLite), and page numbers in the query string out of range."""

from __future__ import annotations

import re

import pytest
from werkzeug.exceptions import NotFound
from werkzeug.routing import Rule

from lms.ids import LARGEST_ID, page_number
from tests.conftest import sign_in

TOO_LARGE = [LARGEST_ID + 1, 2**63, 10**30]


def integer_routes(app) -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if any(type(conv).__name__ == "DatabaseIdConverter" for conv in rule._converters.values())
    ]


def test_every_int_in_a_route_is_bounded(app):
    routes = integer_routes(app)
    assert len(routes) >= 20  # attempts, quizzes, users, submissions, versions, cohorts, ...
    unbounded = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if any(type(conv).__name__ == "IntegerConverter" for conv in rule._converters.values())
    ]
    assert unbounded == []


_ARGUMENT = re.compile(r"<(?:([a-zA-Z_]\w*)(?:\([^)]*\))?:)?\w+>")


def url_with(rule: Rule, value: int) -> str:
    """The rule's path with every integer argument set to `value` and every other argument to "x"."""
    return _ARGUMENT.sub(lambda m: str(value) if m.group(1) == "int" else "x", rule.rule)


@pytest.mark.parametrize("value", TOO_LARGE)
def test_every_route_with_an_integer_answers_404_to_an_id_too_large(app, client, admin, value):
    sign_in(client, admin)
    asked = []
    for rule in integer_routes(app):
        url = url_with(rule, value)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            assert response.status_code == 404, f"{method} {url}: {response.status_code}"
            asked.append(f"{method} {url}")
    assert len(asked) >= 20


def test_the_largest_id_still_matches_its_route(app):
    urls = app.url_map.bind("localhost")
    assert urls.match(f"/quizzes/attempts/{LARGEST_ID}") == ("quizzes.take", {"attempt_id": LARGEST_ID})
    with pytest.raises(NotFound):
        urls.match(f"/quizzes/attempts/{LARGEST_ID + 1}")


@pytest.mark.parametrize(
    ("raw", "page"),
    [
        ("", 1),
        ("abc", 1),
        ("0", 1),
        ("-5", 1),
        ("3", 3),
        (" 7 ", 7),
        (str(2**31), LARGEST_ID),
        (str(10**30), LARGEST_ID),
    ],
)
def test_a_page_number_from_the_query_string(raw, page):
    assert page_number({"page": raw}) == page


@pytest.mark.parametrize("value", ["99999999999999999999", str(2**31), "-1", "abc"])
def test_list_pages_take_any_page_number(client, samples, value):
    sign_in(client, samples.admin)
    for url in ("/grading", "/gradebook/gradebook-access"):
        response = client.get(f"{url}?page={value}")
        assert response.status_code == 200, f"{url}?page={value}: {response.status_code}"

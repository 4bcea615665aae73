"""Every per-process cache of database rows is emptied by the one call the test fixtures make between tests."""

from __future__ import annotations

import functools

import pytest

from lms import page_cache
from lms.page_cache import clear_page_caches, forget_with_pages
from lms.quizzes import operations as quiz_operations


def test_a_registered_row_cache_is_emptied_with_the_pages(app):
    calls: list[int] = []

    @forget_with_pages
    @functools.lru_cache(maxsize=4)
    def rows(n: int) -> int:
        calls.append(n)
        return n

    rows(1), rows(1)
    assert calls == [1]
    clear_page_caches(app)
    rows(1)
    assert calls == [1, 1]


def test_the_quiz_question_pool_is_registered():
    # it survived between tests before: a quiz version id reused by the next test's database read stale questions
    assert quiz_operations._question_pool.cache_clear in page_cache._CLEARED_WITH_PAGES


def test_only_an_lru_cache_can_be_registered():
    with pytest.raises(TypeError, match="cache_clear"):
        forget_with_pages(lambda: None)

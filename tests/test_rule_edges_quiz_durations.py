"""How durations and points read on the quiz pages ("You will have 1 hour 5 minutes", "Start the quiz (45 min)",
"2.5 of 5 points"): singular and plural, rounding, and the edges at zero and at whole minutes."""

from __future__ import annotations

import pytest

from lms.quizzes.operations import describe_duration, format_points, short_duration


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "0 seconds"),
        (-5, "0 seconds"),  # a deadline already passed reads as no time, never as negative time
        (1, "1 second"),
        (45, "45 seconds"),
        (59.6, "1 minute"),  # rounded to the second
        (60, "1 minute"),
        (61, "1 minute 1 second"),
        (150, "2 minutes 30 seconds"),
        (3600, "1 hour"),
        (3661, "1 hour 1 minute 1 second"),
        (7325, "2 hours 2 minutes 5 seconds"),
        (7200 + 59, "2 hours 59 seconds"),
    ],
)
def test_describe_duration(seconds, words):
    assert describe_duration(seconds) == words


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (2700, "45 min"),
        (60, "1 min"),
        (0, "0 min"),
        (-30, "0 min"),
        (61, "1 min 1 second"),
        (90, "1 min 30 seconds"),
        (2730.4, "45 min 30 seconds"),
        (45, "45 seconds"),
    ],
)
def test_short_duration(seconds, words):
    assert short_duration(seconds) == words


@pytest.mark.parametrize(
    ("value", "shown"),
    [(None, "-"), (5.0, "5"), (5, "5"), (2.5, "2.5"), (1.3333, "1.33"), (0, "0"), (0.004, "0")],
)
def test_format_points(value, shown):
    assert format_points(value) == shown

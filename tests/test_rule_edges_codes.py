"""Edges of certificate code parsing that mutation testing showed no test pinned: the input length limit itself,
and the exact words a person sees when a code is refused."""

from __future__ import annotations

import pytest

from lms.certificates.codes import MAX_INPUT_LENGTH, CodeError, check_symbol, parse_code

DATA = "7KQ2M9XD4TRW"
CODE = DATA + check_symbol(DATA)
TOO_LONG = "That is too long to be a certificate code. A code looks like 7KQ2-M9XD-4TRW-H."
EMPTY = "Enter a certificate code. A code looks like 7KQ2-M9XD-4TRW-H."
TYPO = (
    "This code has a typing mistake: its characters do not add up (the last one is a check). "
    "Check each character against the certificate."
)


def refusal(text: str) -> str:
    with pytest.raises(CodeError) as caught:
        parse_code(text)
    return str(caught.value)


def test_a_pasted_code_padded_up_to_the_length_limit_is_still_read():
    assert MAX_INPUT_LENGTH == 64
    padded = f"  {CODE}  ".ljust(MAX_INPUT_LENGTH, " ")
    assert len(padded) == MAX_INPUT_LENGTH
    assert parse_code(padded).canonical == CODE


def test_one_character_past_the_limit_is_refused_before_anything_else():
    assert refusal(CODE.ljust(MAX_INPUT_LENGTH + 1, " ")) == TOO_LONG


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", EMPTY),
        (" - ", EMPTY),
        (CODE[:-1] + ("0" if CODE[-1] != "0" else "1"), TYPO),
        (CODE[1] + CODE[0] + CODE[2:], TYPO),
        (
            CODE + "9",
            "A certificate code has 13 letters and digits (dashes and spaces aside); this one has 14. "
            "Check it against the certificate.",
        ),
        (CODE[:-1] + "U", "A certificate code never contains U. Check it against the certificate."),
    ],
)
def test_refused_codes_say_exactly_what_is_wrong(typed, message):
    assert refusal(typed) == message

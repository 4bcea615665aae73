"""Certificate codes (a pure module): format, randomness, forgiving parsing, and typos caught by the check symbol."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lms.certificates.codes import (
    ALPHABET,
    DATA_LENGTH,
    CodeError,
    check_symbol,
    format_code,
    new_code,
    parse_code,
)

DISPLAY = re.compile(
    r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]$"
)
data_symbols = st.text(alphabet=ALPHABET, min_size=DATA_LENGTH, max_size=DATA_LENGTH)


def test_alphabet_is_crockford_base32_without_i_l_o_u():
    assert len(ALPHABET) == 32 == len(set(ALPHABET))
    assert not set("ILOU") & set(ALPHABET)


def test_new_codes_are_grouped_for_reading_aloud_and_carry_sixty_random_bits():
    codes = [new_code() for _ in range(2000)]
    for code in codes:
        assert DISPLAY.match(code.display), code.display
        assert code.canonical == code.display.replace("-", "")
        assert parse_code(code.display) == code
    assert len({c.canonical for c in codes}) == len(codes)
    assert DATA_LENGTH * 5 >= 60
    # Every symbol turns up in every data position: nothing is fixed or sequential.
    for position in range(DATA_LENGTH):
        seen = Counter(c.canonical[position] for c in codes)
        assert set(seen) == set(ALPHABET), position


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("7KQ2-M9XD-4TRW-H", "7KQ2M9XD4TRWH"),
        ("7kq2-m9xd-4trw-h", "7KQ2M9XD4TRWH"),
        ("7KQ2 M9XD 4TRW H", "7KQ2M9XD4TRWH"),
        ("  7KQ2M9XD4TRWH\n", "7KQ2M9XD4TRWH"),
        ("7-K-Q-2-M-9-X-D-4-T-R-W-H", "7KQ2M9XD4TRWH"),
        ("1234-5678-9ABC-" + check_symbol("123456789ABC"), "123456789ABC" + check_symbol("123456789ABC")),
        ("I234-5678-9ABC-" + check_symbol("123456789ABC"), "123456789ABC" + check_symbol("123456789ABC")),
        ("l234-5678-9ABC-" + check_symbol("123456789ABC"), "123456789ABC" + check_symbol("123456789ABC")),
        ("0000-0000-0000-0", "0000000000000"),
        ("oooo-OOOO-0000-o", "0000000000000"),
    ],
)
def test_parsing_ignores_case_spaces_dashes_and_reads_crockford_aliases(typed, canonical):
    parsed = parse_code(typed)
    assert parsed.canonical == canonical
    assert parsed.display == format_code(canonical)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter a certificate code"),
        ("   -- ", "Enter a certificate code"),
        ("7KQ2-M9XD-4TRW", "has 13 letters and digits"),
        ("7KQ2-M9XD-4TRW-HH", "this one has 14"),
        ("7KQ2-M9XD-4TRW-U", "never contains U"),
        ("7KQ2-M9XD-4T*W-H", "never contains *"),
        ("7KQ2-M9XD-4TRW-5", "typing mistake"),
        ("7KQ2-M9XD-4TRV-H", "typing mistake"),
        ("K7Q2-M9XD-4TRW-H", "typing mistake"),
        ("x" * 65, "too long"),
        ("<script>alert(1)</script>", "this one has 25"),
        ("7KQ2<M9XD>4TR", "never contains < >"),
    ],
)
def test_malformed_codes_and_typos_are_refused_with_a_clear_message(typed, message):
    with pytest.raises(CodeError, match=re.escape(message)):
        parse_code(typed)


@given(data_symbols)
def test_every_single_mistyped_symbol_is_caught(data):
    canonical = data + check_symbol(data)
    for position, original in enumerate(canonical):
        for replacement in ALPHABET:
            if replacement == original:
                continue
            typo = canonical[:position] + replacement + canonical[position + 1 :]
            with pytest.raises(CodeError, match="typing mistake"):
                parse_code(typo)


@given(data_symbols)
def test_every_swap_of_two_different_neighbours_is_caught_check_symbol_included(data):
    canonical = data + check_symbol(data)
    for position in range(len(canonical) - 1):
        a, b = canonical[position], canonical[position + 1]
        if a == b:
            continue
        swapped = canonical[:position] + b + a + canonical[position + 2 :]
        with pytest.raises(CodeError, match="typing mistake"):
            parse_code(swapped)


def test_check_symbol_is_always_a_letter_or_digit_so_urls_stay_plain():
    assert {check_symbol(new_code().canonical[:DATA_LENGTH]) for _ in range(3000)} <= set(ALPHABET)

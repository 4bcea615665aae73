"""Certificate codes: 60 random bits in Crockford base32, grouped for reading aloud, with a check symbol.

A code looks like ``7KQ2-M9XD-4TRW-H``: twelve symbols carrying 60 bits from `secrets` (never a row id, so codes
cannot be guessed or enumerated), then one check symbol from the same 32 symbols, so a code is only letters and
digits (Crockford's own mod-37 check would add ``* ~ $ =`` to URLs and to what people read aloud).

The check symbol is our own, documented here: the Damm algorithm over the field GF(32) (polynomial x^5 + x^2 + 1).
Reading the symbols as field elements d1..d13, the running value starts at 0 and becomes ``2·r + d`` for each
symbol (``·`` is field multiplication, ``+`` is XOR); the check symbol is the one that brings the final value to 0.
The operation ``r ∘ d = 2·r + d`` is a totally anti-symmetric quasigroup (2 is neither 0 nor 1), so every single
mistyped symbol and every swap of two different neighbouring symbols, the check symbol included, is caught before
any database lookup.

Parsing is forgiving the way Crockford intends: case does not matter, spaces and dashes are ignored, and the
letters people confuse with digits are read as those digits (O as 0, I and L as 1).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
FIELD_POLYNOMIAL = 0b100101  # x^5 + x^2 + 1, irreducible over GF(2): symbols are elements of GF(32)
DATA_LENGTH = 12  # 12 symbols x 5 bits = 60 random bits
GROUP = 4
ALIASES = {"O": "0", "I": "1", "L": "1"}
IGNORED = frozenset(" -\t\n\r")
MAX_INPUT_LENGTH = 64  # anything longer is not a code, whatever it holds


class CodeError(ValueError):
    """The text is not a well-formed certificate code; the message says why, for the person who typed it."""


@dataclass(frozen=True)
class ParsedCode:
    canonical: str  # 7KQ2M9XD4TRWH: what the database stores
    display: str  # 7KQ2-M9XD-4TRW-H: what people read and what the URL uses


def _times_two(value: int) -> int:
    """Multiply a GF(32) element by 2 (the polynomial x)."""
    value <<= 1
    return value ^ FIELD_POLYNOMIAL if value & 0b100000 else value


def _running_value(symbols: str) -> int:
    value = 0
    for symbol in symbols:
        value = _times_two(value) ^ ALPHABET.index(symbol)
    return value


def check_symbol(data: str) -> str:
    """The check symbol for twelve data symbols (already canonical): 2·r + c = 0, so c = 2·r."""
    return ALPHABET[_times_two(_running_value(data))]


def is_consistent(canonical: str) -> bool:
    """Whether the check symbol agrees with the data symbols (the running value over all of them is 0)."""
    return _running_value(canonical) == 0


def format_code(canonical: str) -> str:
    """7KQ2M9XD4TRWH -> 7KQ2-M9XD-4TRW-H."""
    data, check = canonical[:DATA_LENGTH], canonical[DATA_LENGTH:]
    groups = [data[i : i + GROUP] for i in range(0, len(data), GROUP)]
    return "-".join([*groups, check])


def new_code() -> ParsedCode:
    """A fresh random code (60 bits from the operating system's CSPRNG) with its check symbol."""
    data = "".join(secrets.choice(ALPHABET) for _ in range(DATA_LENGTH))
    canonical = data + check_symbol(data)
    return ParsedCode(canonical=canonical, display=format_code(canonical))


def parse_code(text: str) -> ParsedCode:
    """Read a typed or pasted code; raise CodeError with a clear message when it cannot be one of ours."""
    if len(text) > MAX_INPUT_LENGTH:
        raise CodeError("That is too long to be a certificate code. A code looks like 7KQ2-M9XD-4TRW-H.")
    cleaned = "".join(ch for ch in text.upper() if ch not in IGNORED)
    if not cleaned:
        raise CodeError("Enter a certificate code. A code looks like 7KQ2-M9XD-4TRW-H.")
    expected = DATA_LENGTH + 1
    if len(cleaned) != expected:
        raise CodeError(
            f"A certificate code has {expected} letters and digits (dashes and spaces aside); "
            f"this one has {len(cleaned)}. Check it against the certificate."
        )
    canonical = "".join(ALIASES.get(ch, ch) for ch in cleaned)
    bad = sorted({ch for ch in canonical if ch not in ALPHABET})
    if bad:
        shown = " ".join(bad)
        raise CodeError(f"A certificate code never contains {shown}. Check it against the certificate.")
    if not is_consistent(canonical):
        raise CodeError(
            "This code has a typing mistake: its characters do not add up (the last one is a check). "
            "Check each character against the certificate."
        )
    return ParsedCode(canonical=canonical, display=format_code(canonical))

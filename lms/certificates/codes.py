"""Certificate codes: 60 random bits in Crockford base32, grouped for reading aloud, with a check symbol.

A code looks like ``7KQ2-M9XD-4TRW-5``: twelve symbols carrying 60 bits from `secrets` (never a row id, so codes
cannot be guessed or enumerated), then one check symbol. The check symbol is Crockford's: the 60-bit value modulo
37, written with the 32 base32 symbols followed by ``* ~ $ = U``. Because 37 is prime, any single mistyped symbol
and any swap of two neighbouring symbols changes it, so such typos are caught before any database lookup.

Parsing is forgiving the way Crockford intends: case does not matter, spaces and dashes are ignored, and the
letters people confuse with digits are read as those digits (O as 0, I and L as 1).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O, U
CHECK_ALPHABET = ALPHABET + "*~$=U"  # the 37 check symbols (value mod 37)
DATA_LENGTH = 12  # 12 symbols x 5 bits = 60 random bits
GROUP = 4
ALIASES = {"O": "0", "I": "1", "L": "1"}
IGNORED = frozenset(" -\t\n\r")
MAX_INPUT_LENGTH = 64  # anything longer is not a code, whatever it holds


class CodeError(ValueError):
    """The text is not a well-formed certificate code; the message says why, for the person who typed it."""


@dataclass(frozen=True)
class ParsedCode:
    canonical: str  # 7KQ2M9XD4TRW5: what the database stores
    display: str  # 7KQ2-M9XD-4TRW-5: what people read and what the URL uses


def check_symbol(data: str) -> str:
    """The check symbol for twelve data symbols (already canonical)."""
    value = 0
    for symbol in data:
        value = value * 32 + ALPHABET.index(symbol)
    return CHECK_ALPHABET[value % 37]


def format_code(canonical: str) -> str:
    """7KQ2M9XD4TRW5 -> 7KQ2-M9XD-4TRW-5."""
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
        raise CodeError("That is too long to be a certificate code. A code looks like 7KQ2-M9XD-4TRW-5.")
    cleaned = "".join(ch for ch in text.upper() if ch not in IGNORED)
    if not cleaned:
        raise CodeError("Enter a certificate code. A code looks like 7KQ2-M9XD-4TRW-5.")
    expected = DATA_LENGTH + 1
    if len(cleaned) != expected:
        raise CodeError(
            f"A certificate code has {expected} letters and digits (dashes and spaces aside); "
            f"this one has {len(cleaned)}. Check it against the certificate."
        )
    data = "".join(ALIASES.get(ch, ch) for ch in cleaned[:DATA_LENGTH])
    check = cleaned[DATA_LENGTH]
    check = ALIASES.get(check, check)
    bad = sorted({ch for ch in data if ch not in ALPHABET})
    if bad or check not in CHECK_ALPHABET:
        shown = " ".join(bad or [check])
        raise CodeError(f"A certificate code never contains {shown}. Check it against the certificate.")
    if check_symbol(data) != check:
        raise CodeError(
            "This code has a typing mistake: its last symbol does not match the others. "
            "Check each character against the certificate."
        )
    canonical = data + check
    return ParsedCode(canonical=canonical, display=format_code(canonical))

"""Numbers as people type them ("70 %", "€7,200", "7.200,00 €", "5th"): pure functions, no database, no clock.

`read_number(text)` splits a typed answer into its value and the unit written with it (a percent sign, a currency
symbol or code, or a word), or None when it is not a number. `parse_number(text, unit)` is the value when the unit
written fits the question's unit (`unit = "%"` in the quiz file): an answer may leave the unit out, but a different
unit ("70 €" for a percentage) is not the number asked for.

Which separator is the decimal one: with both "," and "." the last one is ("7.200,00" and "7,200.00" are 7200);
repeated, one groups thousands ("1.000.000" is a million); a single one is decimal ("7,5" and "7.5" are 7.5), except
that one before exactly three digits could be either: "7,200" reads first as 7200 and "7.200" as 7.2, and
`matches_number` accepts either reading (as a person marking "7.200 €" would). Spaces, non-breaking spaces,
apostrophes and underscores between digits group digits.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# Each unit people write, by what it means (a word not listed here is compared as written).
_ALIASES: dict[str, tuple[str, ...]] = {
    "%": ("%", "percent", "per cent", "pct"),
    "EUR": ("€", "eur", "euro", "euros"),
    "USD": ("$", "us$", "usd", "dollar", "dollars"),
    "GBP": ("£", "gbp", "pound", "pounds"),
    "JPY": ("¥", "jpy", "yen"),
    "INR": ("₹", "inr", "rupee", "rupees"),
    "CHF": ("chf", "fr", "sfr"),
}
_UNIT_OF = {alias: unit for unit, aliases in _ALIASES.items() for alias in aliases}
_ORDINAL_SUFFIXES = ("st", "nd", "rd", "th")
_CURRENCY_CODE = re.compile(r"^[a-z]{3}$")

_SIGNS = "+-\u2212"  # the minus sign (U+2212) is what typeset text and some keyboards give
_SHAPE = re.compile(
    r"^(?P<before>[^\d.,+\-\u2212]*?)\s*(?P<sign>[+\-\u2212]?)\s*(?P<inner>[^\d.,\s+\-\u2212]*?)\s*"
    r"(?P<body>[\d.,][\d.,'\u2019\s_]*?)(?P<exponent>[eE][+-]?\d+)?\s*(?P<after>[^\d]*)$"
)
_GROUPING = re.compile(r"[\s'\u2019_]")
_TRAILING_PUNCTUATION = ".!?;:,"
_GROUPS_OF_THREE = {sep: re.compile(rf"^[1-9]\d{{0,2}}(\{sep}\d{{3}})+$") for sep in ",."}
_AMBIGUOUS = re.compile(r"^[1-9]\d{0,2}[.,]\d{3}$")  # a thousands group, or three decimals
_INDIAN_GROUPS = re.compile(r"^\d{1,2}(,\d{2})*,\d{3}$")  # 12,34,567


@dataclass(frozen=True)
class TypedNumber:
    value: float  # the likelier reading
    unit: str | None  # "%", "EUR", ... (see _ALIASES), another word as written (casefolded), or None
    ordinal: bool = False  # "5th"
    readings: tuple[float, ...] = ()  # every reading, the likelier first ("7.200": 7.2 and 7200)


def canonical_unit(text: str | None) -> str | None:
    """The unit a written unit means ("€" and "eur" are "EUR"), or the word itself casefolded; None when empty."""
    if text is None:
        return None
    word = " ".join(text.split()).casefold()
    if not word:
        return None
    if word in _UNIT_OF:
        return _UNIT_OF[word]
    return word.upper() if _CURRENCY_CODE.match(word) else word


def _readings(body: str) -> list[str]:
    """The digits with "." as the decimal point and no grouping: the likelier reading first, then the other one
    when a single separator before three digits could be either ("7.200", "7,200"); empty when nonsense."""
    body = _GROUPING.sub("", body)
    if not any(ch.isdigit() for ch in body):
        return []
    if "," in body and "." in body:
        decimal = "," if body.rfind(",") > body.rfind(".") else "."
        grouping = "." if decimal == "," else ","
        whole, _, fraction = body.rpartition(decimal)
        if decimal in whole or grouping in fraction:
            return []
        return [whole.replace(grouping, "") + "." + fraction]
    for sep in ",.":
        if sep not in body:
            continue
        if body.count(sep) > 1:
            grouped = _GROUPS_OF_THREE[sep].match(body) or (sep == "," and _INDIAN_GROUPS.match(body))
            return [body.replace(sep, "")] if grouped else []
        decimal, grouped = body.replace(sep, "."), body.replace(sep, "")
        if not _AMBIGUOUS.match(body):
            return [decimal]
        # "7,200" reads as thousands (as English writes it), "7.200" as a decimal point; the other is kept too.
        return [grouped, decimal] if sep == "," else [decimal, grouped]
    return [body]


def _strip_trailing_punctuation(text: str) -> str:
    stripped = text.rstrip()
    while stripped and stripped[-1] in _TRAILING_PUNCTUATION:
        stripped = stripped[:-1].rstrip()
    return stripped


def read_number(text: str) -> TypedNumber | None:
    """The number typed and the unit written with it; None when the text is not one number."""
    match = _SHAPE.match(_strip_trailing_punctuation(text.strip()))
    if match is None:
        return None
    readings = []
    for digits in _readings(match["body"]):
        try:
            reading = float(digits + (match["exponent"] or ""))
        except ValueError:
            return None
        if not math.isfinite(reading):
            return None
        readings.append(-reading if match["sign"] in ("-", "\u2212") else reading)
    if not readings:
        return None
    after = match["after"].strip()
    ordinal = (
        after.casefold() in _ORDINAL_SUFFIXES and match["body"].strip().isdigit() and not match["exponent"]
    )
    written = [
        canonical_unit(part)
        for part in (match["before"], match["inner"], "" if ordinal else after)
        if part.strip()
    ]
    if len(set(written)) > 1:  # "$7,200 EUR": two different units
        return None
    readings = [reading + 0.0 for reading in readings]  # -0.0 is 0
    return TypedNumber(readings[0], written[0] if written else None, ordinal, tuple(readings))


def _unit_fits(typed: TypedNumber, unit: str | None) -> bool:
    if typed.unit is None:
        return True
    wanted = canonical_unit(unit)
    if wanted is not None:
        return typed.unit == wanted
    return typed.unit in _ALIASES or (typed.unit.isupper() and len(typed.unit) == 3)


def parse_number(text: str, unit: str | None = None) -> float | None:
    """The value typed (its likelier reading), when the text is a number whose unit (if written) is the
    question's; else None. Without a question unit, a percent sign or currency may be written ("70%" is 70) but
    not some other word."""
    typed = read_number(text)
    return typed.value if typed is not None and _unit_fits(typed, unit) else None


def matches_number(text: str, target: float, tolerance: float = 0.0, unit: str | None = None) -> bool:
    """Whether the typed answer is the number asked for: a reading of it within the tolerance, its unit (if
    written) the question's. Either reading of "7.200" counts, as a person marking it would read it."""
    typed = read_number(text)
    if typed is None or not _unit_fits(typed, unit):
        return False
    slack = tolerance + 1e-9 * max(1.0, abs(target))
    return any(abs(reading - target) <= slack for reading in typed.readings)

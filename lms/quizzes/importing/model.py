"""What a Moodle question bank holds, read from GIFT or Moodle XML: the parsers fill it, `mapping` turns it into
our quiz questions. Pure data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SUPPORTED = ("multichoice", "truefalse", "shortanswer", "numerical")


@dataclass
class Answer:
    text: str
    fraction: float  # Moodle's grade for this answer, in percent (-100..100)
    feedback: str = ""
    tolerance: float = 0.0  # numerical answers only


@dataclass
class Item:
    """One importable question as Moodle has it."""

    kind: str  # one of SUPPORTED
    where: str  # "line 12" (GIFT) or "question 3" (XML): where a message points
    name: str  # Moodle's question name ("" when the file gives none)
    prompt: str
    feedback: str = ""  # the general feedback
    category: str | None = None
    answers: list[Answer] = field(default_factory=list)
    single: bool = True  # multichoice: one answer may be chosen (Moodle's "single")
    truth: bool | None = None  # truefalse: the right answer
    true_feedback: str = ""  # truefalse: shown to who answered true
    false_feedback: str = ""  # truefalse: shown to who answered false
    points: float | None = None  # Moodle's default mark (None: the file gives none)
    case_sensitive: bool = False  # shortanswer
    units: list[tuple[str, float]] = field(default_factory=list)  # numerical: (unit, multiplier)
    ours: dict[str, Any] = field(default_factory=dict)  # our own settings carried in a GIFT "// lms:" comment
    notes: list[str] = field(default_factory=list)  # what the reading had to change, said to the importer


@dataclass(frozen=True)
class Skipped:
    """A question of a type we cannot take, listed where it is."""

    where: str
    kind: str
    name: str
    reason: str

    def __str__(self) -> str:
        named = f" {self.name!r}" if self.name else ""
        return f"{self.where}: {self.kind}{named} skipped: {self.reason}"


@dataclass
class Bank:
    items: list[Item] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


class BankError(ValueError):
    """The file is not what its format says: every problem found, each with its line or element."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems  # (where, message)
        super().__init__("; ".join(f"{where}: {message}" for where, message in problems))

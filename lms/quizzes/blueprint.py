"""Exam blueprints: reading a quiz file's [blueprint], checking it against its pool, and planning a stratified draw
that prefers the items a student has seen least (pure: no database, no web).

A blueprint is a list of strata; each says how many items to draw among those of a module (domain), and optionally
of a question type or difficulty. An item's domain is its `module`, or its quiz's module for a module quiz. Retired
items stay in the file (and in the versions attempts were taken on) but are never drawn."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

DIFFICULTIES = ("easy", "medium", "hard")
STRATUM_KEYS = {"module", "type", "difficulty", "count"}
POOL_FACTOR = 3  # each stratum's pool should hold at least this many times what it draws


@dataclass(frozen=True)
class Stratum:
    """Draw `count` items among those matching every attribute given (None: any)."""

    count: int
    module: str | None = None
    type: str | None = None
    difficulty: str | None = None
    line: int = field(default=0, compare=False)  # where the file declares it (0: not from a file)

    def matches(self, question: Mapping[str, Any], default_module: str | None = None) -> bool:
        return (
            (self.module is None or domain_of(question, default_module) == self.module)
            and (self.type is None or question.get("type") == self.type)
            and (self.difficulty is None or question.get("difficulty") == self.difficulty)
        )

    @property
    def specificity(self) -> int:
        return sum(value is not None for value in (self.module, self.type, self.difficulty))

    @property
    def label(self) -> str:
        parts = [self.module or "any module"]
        parts += [value for value in (self.type, self.difficulty) if value]
        return ", ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        return {"module": self.module, "type": self.type, "difficulty": self.difficulty, "count": self.count}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Stratum:
        return cls(int(data["count"]), data.get("module"), data.get("type"), data.get("difficulty"))


def domain_of(question: Mapping[str, Any], default_module: str | None = None) -> str | None:
    return question.get("module") or default_module


def active(pool: Iterable[Mapping[str, Any]]) -> list[Any]:
    """The items new attempts may draw: every item not retired."""
    return [q for q in pool if not q.get("retired")]


# -- reading ---------------------------------------------------------------------------------------------------


def read_blueprint(
    raw: Any,
    line_of: Callable[[str], int],
    report: Callable[[int, str], None],
    *,
    question_types: tuple[str, ...],
) -> list[Stratum]:
    """The strata a [blueprint] table (`"<module>" = n`) or [[blueprint]] tables (module, type, difficulty, count)
    declare; each problem is reported with its line (line_of takes the dotted key under "blueprint")."""
    if raw is None:
        return []
    if isinstance(raw, dict):
        entries = [({"module": key, "count": value}, key) for key, value in raw.items()]
    elif isinstance(raw, list):
        entries = [(item, str(i)) for i, item in enumerate(raw)]
    else:
        report(
            line_of(""),
            'blueprint must be a [blueprint] table of "<module>" = count, or [[blueprint]] tables',
        )
        return []
    strata = []
    for item, key in entries:
        line = line_of(key)
        if not isinstance(item, dict):
            report(line, "each [[blueprint]] entry must be a table with module, type, difficulty and count")
            continue
        for unknown in sorted(set(item) - STRATUM_KEYS):
            report(line, f"unknown key {unknown!r} in the blueprint")
        count = item.get("count")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            report(line, f"blueprint: the count must be a whole number of at least 1, got {count!r}")
            continue
        module, kind, difficulty = item.get("module"), item.get("type"), item.get("difficulty")
        if module is not None and (not isinstance(module, str) or not module.strip()):
            report(line, f"blueprint: module must be a module slug, got {module!r}")
            continue
        if kind is not None and kind not in question_types:
            report(line, f"blueprint: type must be one of {', '.join(question_types)}, got {kind!r}")
            continue
        if difficulty is not None and difficulty not in DIFFICULTIES:
            report(
                line, f"blueprint: difficulty must be one of {', '.join(DIFFICULTIES)}, got {difficulty!r}"
            )
            continue
        strata.append(Stratum(count, module, kind, difficulty, line=line))
    return strata


def ordered(strata: Iterable[Stratum]) -> list[Stratum]:
    """Strata in drawing order: the most specific first (stable), so a broad stratum never takes a narrow one's
    items."""
    return sorted(strata, key=lambda s: -s.specificity)


def pool_sizes(
    strata: list[Stratum], pool: Iterable[Mapping[str, Any]], default_module: str | None = None
) -> dict[Stratum, int]:
    """Each stratum's pool: the active items it matches that no more specific stratum matches (those draw first)."""
    items = active(pool)
    return {
        stratum: sum(
            1
            for q in items
            if stratum.matches(q, default_module)
            and not any(
                other.specificity > stratum.specificity and other.matches(q, default_module)
                for other in strata
            )
        )
        for stratum in strata
    }


def check_blueprint(
    strata: list[Stratum], draw: int, pool: list[Mapping[str, Any]], default_module: str | None = None
) -> tuple[list[tuple[Stratum | None, str]], list[tuple[Stratum | None, str]]]:
    """(errors, warnings), each with its stratum (None: the whole blueprint): the counts must sum to the draw and
    every stratum's pool must fill it; a pool under POOL_FACTOR times its count is a warning (too few items to
    keep retakes fresh)."""
    errors: list[tuple[Stratum | None, str]] = []
    warnings: list[tuple[Stratum | None, str]] = []
    total = sum(s.count for s in strata)
    if total != draw:
        errors.append((None, f"the blueprint draws {total} item(s) but draw is {draw}: they must agree"))
    sizes = pool_sizes(strata, pool, default_module)
    for stratum in strata:
        size = sizes[stratum]
        if size < stratum.count:
            errors.append(
                (stratum, f"blueprint ({stratum.label}): draws {stratum.count} but the pool holds only {size} "
                 "active item(s)")
            )  # fmt: skip
        elif size < POOL_FACTOR * stratum.count:
            warnings.append(
                (stratum, f"blueprint ({stratum.label}): the pool holds {size} item(s) for a draw of "
                 f"{stratum.count}; at least {POOL_FACTOR * stratum.count} ({POOL_FACTOR}x) keep retakes fresh")
            )  # fmt: skip
    return errors, warnings


# -- drawing ---------------------------------------------------------------------------------------------------


def _least_seen(candidates: list[Any], n: int, rank: Mapping[str, Any], rng: random.Random) -> list[Any]:
    """n candidates, the lowest ranked first (times seen in earlier attempts), at random among equals."""
    shuffled = list(candidates)
    rng.shuffle(shuffled)
    shuffled.sort(key=lambda q: rank.get(q["id"], 0))
    return shuffled[:n]


def plan_draw(
    pool: list[Any],
    strata: list[Stratum],
    draw: int,
    *,
    default_module: str | None = None,
    seen: Mapping[str, int] | None = None,
    rng: random.Random,
) -> list[Any]:
    """The items of one attempt, in pool order: each stratum's count from its items (the most specific strata
    first), preferring items the student has seen in fewer earlier attempts (`seen`: times per item id). Without a
    blueprint, `draw` items from the whole active pool with the same preference."""
    seen = seen or {}
    items = active(pool)
    taken: set[str] = set()
    plan = ordered(strata) if strata else [Stratum(draw)]
    for n, stratum in enumerate(plan):
        later = plan[n + 1 :]
        candidates = [q for q in items if q["id"] not in taken and stratum.matches(q, default_module)]
        # Of equally fresh items, those no later stratum needs first (strata may overlap: a module and a type).
        claimed = {q["id"]: sum(s.matches(q, default_module) for s in later) for q in candidates}
        ranked = {q["id"]: (seen.get(q["id"], 0), claimed[q["id"]]) for q in candidates}
        taken.update(q["id"] for q in _least_seen(candidates, stratum.count, ranked, rng))
    short = min(draw, len(items)) - len(taken)
    if short > 0:  # a stratum that could not be filled (the check refuses such files): fill from the rest
        rest = [q for q in items if q["id"] not in taken]
        taken.update(q["id"] for q in _least_seen(rest, short, seen, rng))
    return [q for q in items if q["id"] in taken]


def seen_counts(layouts: Iterable[list[Mapping[str, Any]]]) -> dict[str, int]:
    """How many earlier attempts showed each item, from the attempts' layouts."""
    counts: dict[str, int] = {}
    for layout in layouts:
        for entry in layout or []:
            counts[entry["question"]] = counts.get(entry["question"], 0) + 1
    return counts

"""How far two markers agree on ordered rubric levels: Cohen's kappa, and linear- or quadratic-weighted kappa.
Pure: pairs of level positions in, numbers out.

Each pair is (first marker's level, second marker's level) as positions 0 .. k-1 on a criterion's scale of k
levels. Kappa compares the agreement seen with the agreement expected by chance from each marker's own spread of
levels: kappa = 1 - (weighted disagreement seen) / (weighted disagreement expected by chance). With unweighted
(nominal) weights this is Cohen's (p_o - p_e) / (1 - p_e). Kappa is undefined when chance alone would give full
agreement (both markers used one and the same level every time, or there are no pairs): then `kappa` is None and
`undefined` says why, rather than dividing by zero."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

WEIGHTS = ("nominal", "linear", "quadratic")


@dataclass(frozen=True)
class Kappa:
    n: int  # how many pairs
    observed: float  # share of exact agreement (p_o)
    kappa: float | None  # None when undefined
    undefined: str = ""  # why kappa is undefined ("" when it is defined)

    @property
    def label(self) -> str:
        """Landis and Koch's words for the strength of agreement (a convention, not a test)."""
        if self.kappa is None:
            return "undefined"
        k = self.kappa
        if k < 0:
            return "worse than chance"
        for limit, word in ((0.2, "slight"), (0.4, "fair"), (0.6, "moderate"), (0.8, "substantial")):
            if k <= limit:
                return word
        return "almost perfect"


def disagreement_weight(i: int, j: int, categories: int, weights: str) -> float:
    """How much a pair of levels (i, j) counts as disagreement: 0 on the diagonal, 1 at the far corner."""
    if weights == "nominal":
        return 0.0 if i == j else 1.0
    if categories < 2:
        return 0.0
    span = categories - 1
    if weights == "linear":
        return abs(i - j) / span
    if weights == "quadratic":
        return (i - j) ** 2 / span**2
    raise ValueError(f"unknown weights {weights!r} (known: {', '.join(WEIGHTS)})")


def kappa(pairs: Iterable[tuple[int, int]], categories: int, weights: str = "nominal") -> Kappa:
    """Cohen's kappa (weights="nominal") or weighted kappa ("linear", "quadratic") over `categories` ordered
    levels numbered 0 .. categories-1."""
    if weights not in WEIGHTS:
        raise ValueError(f"unknown weights {weights!r} (known: {', '.join(WEIGHTS)})")
    pairs = list(pairs)
    for a, b in pairs:
        if not (0 <= a < categories and 0 <= b < categories):
            raise ValueError(f"level pair {(a, b)} is outside 0..{categories - 1}")
    n = len(pairs)
    if n == 0:
        return Kappa(0, 0.0, None, "no work was marked by both")
    table = _table(pairs, categories)
    rows = [sum(table[i]) for i in range(categories)]
    cols = [sum(table[i][j] for i in range(categories)) for j in range(categories)]
    observed_agreement = sum(table[i][i] for i in range(categories)) / n
    seen = 0.0
    chance = 0.0
    for i in range(categories):
        for j in range(categories):
            w = disagreement_weight(i, j, categories, weights)
            seen += w * table[i][j] / n
            chance += w * rows[i] * cols[j] / (n * n)
    if chance == 0:
        return Kappa(
            n,
            observed_agreement,
            None,
            "both markers gave one and the same level every time, so chance alone explains the agreement",
        )
    return Kappa(n, observed_agreement, 1 - seen / chance)


def _table(pairs: Sequence[tuple[int, int]], categories: int) -> list[list[int]]:
    table = [[0] * categories for _ in range(categories)]
    for a, b in pairs:
        table[a][b] += 1
    return table

"""Item analysis from scored attempts (pure): how often each question was right, how well it separates strong
from weak students (discrimination index), how often each choice was picked, and a score histogram in SVG.

Each item is flagged when it needs a person's look (flag_item): too few responses to judge (under 30); once there
are enough, a facility (the average share of its points earned) above 0.95 or below 0.2, or a discrimination index
below 0.1. Each flag says why in plain words.

Everything is computed from sums over the attempts (Counts), which lms.quizzes.itemstats keeps as attempts finish.
Attempts tied on the score at the edge of the upper or lower 27 % share its last places (each counts for the
share of one attempt that is left), so the index does not depend on the order the attempts are read in; before the
sums, the database's row order chose among them."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

GROUP_SHARE = 0.27  # Kelley's upper and lower 27%
MIN_RESPONSES = 30  # fewer, and facility and discrimination say little
TOO_EASY = 0.95  # facility above this: nearly everyone earns the points
TOO_HARD = 0.2  # facility below this: nearly no one does
LOW_DISCRIMINATION = 0.1  # below this: strong and weak students do about as well


@dataclass(frozen=True)
class ItemFlag:
    code: str  # "too_few_responses", "too_easy", "too_hard", "low_discrimination"
    reason: str  # for people, with the figure and the threshold


@dataclass
class ChoiceStat:
    label: str
    correct: bool
    count: int
    share: float  # of the attempts shown the question


@dataclass
class QuestionStat:
    id: str
    prompt: str
    type: str
    shown: int
    right: int
    mean_fraction: float | None  # average share of the points earned
    discrimination: float | None
    choices: list[ChoiceStat] = field(default_factory=list)
    flags: list[ItemFlag] = field(default_factory=list)

    @property
    def percent_right(self) -> float | None:
        return round(100 * self.right / self.shown, 1) if self.shown else None

    @property
    def facility(self) -> float | None:
        """The average share of the question's points earned, 0..1 (the share right, for a right-or-wrong item)."""
        return self.mean_fraction


def flag_item(stat: QuestionStat) -> list[ItemFlag]:
    """What about this item needs a look, each with its reason in plain words (empty: nothing)."""
    if stat.shown < MIN_RESPONSES:
        return [
            ItemFlag(
                "too_few_responses",
                f"Only {stat.shown} response{'' if stat.shown == 1 else 's'} so far: facility and discrimination "
                f"are judged from {MIN_RESPONSES} responses on.",
            )
        ]
    flags = []
    facility = stat.facility
    if facility is not None and facility > TOO_EASY:
        flags.append(
            ItemFlag(
                "too_easy",
                f"Nearly everyone earns its points (facility {facility:.2f}, above {TOO_EASY}): it tells you little "
                "about who knows the material. Make it harder or drop it.",
            )
        )
    if facility is not None and facility < TOO_HARD:
        flags.append(
            ItemFlag(
                "too_hard",
                f"Few earn its points (facility {facility:.2f}, below {TOO_HARD}): check the answer key and the "
                "wording, and whether the lessons teach it.",
            )
        )
    if stat.discrimination is not None and stat.discrimination < LOW_DISCRIMINATION:
        flags.append(
            ItemFlag(
                "low_discrimination",
                f"Strong and weak students do about as well on it (discrimination {stat.discrimination:.2f}, below "
                f"{LOW_DISCRIMINATION}): it does not separate those who know the material. Look for an ambiguous "
                "wording or a wrong key.",
            )
        )
    return flags


@dataclass
class Analysis:
    attempts: int
    mean_percent: float | None
    questions: list[QuestionStat]
    histogram: list[int]  # ten bins: 0-9, 10-19, ..., 90-100


def _is_right(result: dict[str, Any]) -> bool:
    return result["max"] > 0 and abs(result["points"] - result["max"]) < 1e-9


def histogram(percents: list[float], bins: int = 10) -> list[int]:
    counts = [0] * bins
    for percent in percents:
        index = min(bins - 1, max(0, int(percent // (100 / bins))))
        counts[index] += 1
    return counts


def pick_of(answer: Any) -> str:
    """A short answer as counted among the common answers: spaces and case do not count."""
    return " ".join(str(answer).split()).casefold()[:PICK_MAX]


PICK_MAX = 1000


@dataclass
class Counts:
    """What the analysis needs from a version's submitted attempts, as sums that one attempt adds to
    (`lms.quizzes.itemstats` keeps them in a table, updated as each attempt is finished): attempts per score,
    per question the attempts shown it and right per score, the sum of the share of its points earned, and how
    often each choice (its id), true or false ("true"/"false") or short answer (`pick_of`) was given."""

    attempts: dict[float, int] = field(default_factory=dict)
    shown: dict[str, dict[float, int]] = field(default_factory=dict)
    right: dict[str, dict[float, int]] = field(default_factory=dict)
    fraction_sum: dict[str, float] = field(default_factory=dict)
    picks: dict[str, Counter[str]] = field(default_factory=dict)

    def add(self, question_types: dict[str, str], percent: float, results: dict[str, Any]) -> None:
        percent = float(percent)
        self.attempts[percent] = self.attempts.get(percent, 0) + 1
        for qid, result in results.items():
            if qid not in question_types:
                continue
            shown = self.shown.setdefault(qid, {})
            shown[percent] = shown.get(percent, 0) + 1
            right = self.right.setdefault(qid, {})
            right[percent] = right.get(percent, 0) + (1 if _is_right(result) else 0)
            self.fraction_sum[qid] = self.fraction_sum.get(qid, 0.0) + result["points"] / result["max"]
            self.picks.setdefault(qid, Counter()).update(picks_of(question_types[qid], result["answer"]))


def picks_of(kind: str, answer: Any) -> list[str]:
    if kind == "single":
        return [answer] if isinstance(answer, str) else []
    if kind == "multiple":
        return [a for a in answer or [] if isinstance(a, str)]
    if kind == "true_false":
        return ["true"] if answer is True else ["false"] if answer is False else []
    return [pick_of(answer)] if answer else []


def _group(bands: list[tuple[float, int]], k: int) -> dict[float, float]:
    """The weight of each score band in a group of k attempts taken from the bands in order: whole bands, then a
    share of the band at the edge when its attempts tie there (each of them counts k_left/band of one attempt, so
    the group does not depend on the order of tied attempts)."""
    weights, left = {}, k
    for percent, count in bands:
        if left <= 0:
            break
        weights[percent] = min(1.0, left / count)
        left -= count
    return weights


def _p_right(counts: Counts, qid: str, weights: dict[float, float]) -> float | None:
    shown = sum(w * counts.shown.get(qid, {}).get(p, 0) for p, w in weights.items())
    if shown <= 0:
        return None
    return sum(w * counts.right.get(qid, {}).get(p, 0) for p, w in weights.items()) / shown


def analyse(questions: list[dict[str, Any]], attempts: list[dict[str, Any]]) -> Analysis:
    """`attempts`: [{"percent": float, "results": {question id: {"answer", "points", "max"}}}], all scored."""
    counts = Counts()
    types = {q["id"]: q["type"] for q in questions}
    for attempt in attempts:
        counts.add(types, attempt["percent"], attempt["results"])
    return analyse_counts(questions, counts)


def analyse_counts(questions: list[dict[str, Any]], counts: Counts) -> Analysis:
    """The analysis from the sums of the attempts (Counts): the upper and lower groups are Kelley's 27 % by score."""
    n = sum(counts.attempts.values())
    k = max(1, round(GROUP_SHARE * n)) if n >= 2 else 0
    bands = sorted(counts.attempts.items())
    lower, upper = (_group(bands, k), _group(bands[::-1], k)) if k else ({}, {})
    stats = []
    for question in questions:
        qid = question["id"]
        shown = sum(counts.shown.get(qid, {}).values())
        p_upper, p_lower = (_p_right(counts, qid, upper), _p_right(counts, qid, lower)) if k else (None, None)
        discrimination = round(p_upper - p_lower, 2) if p_upper is not None and p_lower is not None else None
        stat = QuestionStat(
            id=qid,
            prompt=question["prompt"],
            type=question["type"],
            shown=shown,
            right=sum(counts.right.get(qid, {}).values()),
            mean_fraction=round(counts.fraction_sum.get(qid, 0.0) / shown, 3) if shown else None,
            discrimination=discrimination,
        )
        stat.choices = _choice_stats(question, counts.picks.get(qid, Counter()), shown)
        stat.flags = flag_item(stat)
        stats.append(stat)
    total = sum(p * c for p, c in bands)
    bins = [0] * 10
    for percent, count in bands:
        bins[min(9, max(0, int(percent // 10)))] += count
    return Analysis(
        attempts=n,
        mean_percent=round(total / n, 1) if n else None,
        questions=stats,
        histogram=bins,
    )


def _choice_stats(question: dict[str, Any], picks: Counter[str], shown: int) -> list[ChoiceStat]:
    shown = shown or 1
    kind = question["type"]
    if kind in ("single", "multiple"):
        return [
            ChoiceStat(c["text"], c["correct"], picks[c["id"]], round(100 * picks[c["id"]] / shown, 1))
            for c in question["choices"]
        ]
    if kind == "true_false":
        return [
            ChoiceStat(label, value is question["answer"], picks[key], round(100 * picks[key] / shown, 1))
            for label, value, key in (("True", True, "true"), ("False", False, "false"))
        ]
    common = sorted(((n, text) for text, n in picks.items() if n), key=lambda x: (-x[0], x[1]))[:5]
    return [ChoiceStat(text, False, n, round(100 * n / shown, 1)) for n, text in common]


def histogram_svg(counts: list[int], *, width: int = 520, height: int = 220) -> Markup:
    """A bar chart of the score histogram, drawn here (no JavaScript); labelled for screen readers."""
    left, bottom, top = 36, 36, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    tallest = max(counts) if counts and max(counts) > 0 else 1
    bar_w = plot_w / len(counts)
    total = sum(counts)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="quiz-histogram" viewBox="0 0 {width} {height}" '
        f'role="img" aria-labelledby="histogram-title"><title id="histogram-title">Scores of {total} '
        f"attempt{'s' if total != 1 else ''}, in bands of 10%</title>",
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>',
        f'<text class="tick" x="{left - 6}" y="{top + 4}" text-anchor="end">{tallest}</text>',
        f'<text class="tick" x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>',
    ]
    for i, count in enumerate(counts):
        bar_h = plot_h * count / tallest
        x = left + i * bar_w + 2
        y = top + plot_h - bar_h
        band = f"{i * 10}-{i * 10 + 9 if i < len(counts) - 1 else 100}%"
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w - 4:.1f}" height="{bar_h:.1f}">'
            f"<title>{escape(band)}: {count}</title></rect>"
        )
        if count:
            parts.append(
                f'<text class="count" x="{x + (bar_w - 4) / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle">{count}</text>'
            )
        parts.append(
            f'<text class="tick" x="{x + (bar_w - 4) / 2:.1f}" y="{top + plot_h + 16}" text-anchor="middle">{i * 10}</text>'
        )
    parts.append(
        f'<text class="tick" x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">score (%)</text></svg>'
    )
    return Markup("".join(parts))  # noqa: S704  (numbers and escaped labels only)

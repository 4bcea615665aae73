"""Item analysis from scored attempts (pure): how often each question was right, how well it separates strong
from weak students (discrimination index), how often each choice was picked, and a score histogram in SVG.

Each item is flagged when it needs a person's look (flag_item): too few responses to judge (under 30); once there
are enough, a facility (the average share of its points earned) above 0.95 or below 0.2, or a discrimination index
below 0.1. Each flag says why in plain words."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape

from lms.quizzes.scoring import is_choice_selected

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


def _p_right(group: list[dict[str, Any]], question_id: str) -> float | None:
    shown = [a["results"][question_id] for a in group if question_id in a["results"]]
    if not shown:
        return None
    return sum(1 for r in shown if _is_right(r)) / len(shown)


def histogram(percents: list[float], bins: int = 10) -> list[int]:
    counts = [0] * bins
    for percent in percents:
        index = min(bins - 1, max(0, int(percent // (100 / bins))))
        counts[index] += 1
    return counts


def analyse(questions: list[dict[str, Any]], attempts: list[dict[str, Any]]) -> Analysis:
    """`attempts`: [{"percent": float, "results": {question id: {"answer", "points", "max"}}}], all scored."""
    ranked = sorted(attempts, key=lambda a: a["percent"])
    k = max(1, round(GROUP_SHARE * len(ranked))) if len(ranked) >= 2 else 0
    lower, upper = ranked[:k], ranked[len(ranked) - k :] if k else []
    stats = []
    for question in questions:
        qid = question["id"]
        results = [a["results"][qid] for a in attempts if qid in a["results"]]
        p_upper, p_lower = (_p_right(upper, qid), _p_right(lower, qid)) if k else (None, None)
        discrimination = round(p_upper - p_lower, 2) if p_upper is not None and p_lower is not None else None
        stat = QuestionStat(
            id=qid,
            prompt=question["prompt"],
            type=question["type"],
            shown=len(results),
            right=sum(1 for r in results if _is_right(r)),
            mean_fraction=round(sum(r["points"] / r["max"] for r in results) / len(results), 3)
            if results
            else None,
            discrimination=discrimination,
        )
        stat.choices = _choice_stats(question, [r["answer"] for r in results])
        stat.flags = flag_item(stat)
        stats.append(stat)
    percents = [a["percent"] for a in attempts]
    return Analysis(
        attempts=len(attempts),
        mean_percent=round(sum(percents) / len(percents), 1) if percents else None,
        questions=stats,
        histogram=histogram(percents),
    )


def _choice_stats(question: dict[str, Any], answers: list[Any]) -> list[ChoiceStat]:
    shown = len(answers) or 1
    kind = question["type"]
    if kind in ("single", "multiple"):
        out = []
        for choice in question["choices"]:
            count = sum(1 for answer in answers if is_choice_selected(question, answer, choice["id"]))
            out.append(ChoiceStat(choice["text"], choice["correct"], count, round(100 * count / shown, 1)))
        return out
    if kind == "true_false":
        return [
            ChoiceStat(label, value is question["answer"], n, round(100 * n / shown, 1))
            for label, value in (("True", True), ("False", False))
            for n in [sum(1 for a in answers if a is value)]
        ]
    common = Counter(" ".join(str(a).split()).casefold() for a in answers if a)
    return [ChoiceStat(text, False, n, round(100 * n / shown, 1)) for text, n in common.most_common(5)]


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

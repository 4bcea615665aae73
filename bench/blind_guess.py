"""How far the test-wise cue strategy gets on each exam, knowing nothing of the subject: pick the longest option,
answer True, select every option but the shortest, leave typed answers blank.

Each simulated attempt draws its items as a real attempt does (lms.quizzes.blueprint.plan_draw, with the exam's
blueprint, retired items left out) and is scored by the real scoring code (lms.quizzes.scoring.score_attempt),
with the exam's pass mark. The exams are read from quizzes/ through `lms check-content`'s own checker. Run by hand:

    .venv/bin/python bench/blind_guess.py --attempts 5000
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lms import create_app  # noqa: E402
from lms.content import check_content  # noqa: E402
from lms.quizzes.blueprint import plan_draw  # noqa: E402
from lms.quizzes.scoring import score_attempt  # noqa: E402

EXAM_KINDS = ("final", "recertification")


def _length(choice: dict[str, Any]) -> int:
    return len(choice["text"])


def cue_answer(question: dict[str, Any]) -> Any:
    """The answer the cue strategy gives, in the stored shape scoring expects."""
    kind = question["type"]
    if kind == "single":
        return max(question["choices"], key=_length)["id"]
    if kind == "true_false":
        return True
    if kind == "multiple":
        shortest = min(question["choices"], key=_length)["id"]
        return [c["id"] for c in question["choices"] if c["id"] != shortest]
    return None  # typed answers left blank


def play(spec: Any, attempts: int, rng: random.Random) -> tuple[float, float]:
    """(mean percent, pass rate in percent) of the cue strategy over this many independent attempts."""
    percents, passes = [], 0
    for _ in range(attempts):
        drawn = plan_draw(spec.questions, spec.blueprint, spec.draw, default_module=spec.module, rng=rng)
        score = score_attempt(drawn, {q["id"]: cue_answer(q) for q in drawn}, spec.pass_percent)
        percents.append(score.percent)
        passes += score.passed
    return statistics.fmean(percents), 100 * passes / attempts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attempts", type=int, default=5000, help="simulated attempts per exam")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--all", action="store_true", help="module quizzes too, not only the exams")
    args = parser.parse_args()

    app = create_app({"COURSES_DIR": str(ROOT / "courses"), "QUIZZES_DIR": str(ROOT / "quizzes")})
    with app.app_context():
        content = check_content(ROOT / "courses", ROOT / "quizzes")
    if content.problems:
        print("\n".join(str(p) for p in content.problems), file=sys.stderr)
        return 1
    rng = random.Random(args.seed)
    print(f"Cue strategy, {args.attempts} simulated attempts per exam (seed {args.seed})")
    print(f"{'exam':<40} {'draw':>4} {'pass mark':>9} {'mean':>7} {'passes':>7}")
    for slug, spec in sorted(content.parsed["quizzes"].items()):
        if spec.kind not in EXAM_KINDS and not args.all:
            continue
        mean, pass_rate = play(spec, args.attempts, rng)
        print(f"{slug:<40} {spec.draw:>4} {spec.pass_percent:>8.0f}% {mean:>6.1f}% {pass_rate:>6.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Checks across the quiz files: the completion lists of the tracks, quizzes drawing from another file's items (a
bank), each exam's blueprint against its pool, and the item-writing checks (lms.quizzes.itemchecks)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from lms.quizzes.blueprint import active, check_blueprint, domain_of
from lms.quizzes.itemchecks import check_items
from lms.quizzes.spec import QuizSpec, read_quiz_file

Found = tuple[Path, int, str]


def _tracks_by_slug(parsed_courses: Any) -> dict[str, Any]:
    if isinstance(parsed_courses, dict):
        return parsed_courses
    return {track.slug: track for track in parsed_courses or []}


def _top_line(spec: QuizSpec, key: str) -> int:
    return spec.lines.top_line(key) if spec.lines else 1


def _resolve_bank(spec: QuizSpec, specs: dict[str, QuizSpec], problems: list[Found]) -> None:
    """A quiz with `bank` draws that quiz's items: they become its own (and its versions follow the bank's file)."""
    bank = specs.get(spec.bank or "")
    line = _top_line(spec, "bank")
    if bank is None:
        problems.append(
            (spec.path, line, f"bank names quiz {spec.bank!r}, but quizzes/{spec.bank}.toml is missing")
        )
    elif bank.slug == spec.slug or bank.bank is not None:
        problems.append((spec.path, line, f"bank {spec.bank!r} must be a quiz with questions of its own"))
    elif bank.track != spec.track:
        problems.append(
            (spec.path, line, f"bank {spec.bank!r} belongs to track {bank.track!r}, not {spec.track!r}")
        )
    else:
        # Its file and the bank's make what it is: a change to either is a change to it (the sync's "unchanged").
        spec.source_hash = hashlib.sha256(f"{spec.source_hash}:{bank.source_hash}".encode()).hexdigest()
        spec.questions = [
            {**question, "module": domain_of(question, bank.module)}
            if domain_of(question, bank.module)
            else question
            for question in bank.questions
        ]


def _check_pool(spec: QuizSpec, tracks: dict[str, Any], problems: list[Found], warnings: list[Found]) -> None:
    pool = active(spec.questions)
    if spec.questions and len(pool) < spec.draw and (spec.bank or spec.draw <= len(spec.questions)):
        problems.append((spec.path, _top_line(spec, "draw"),
                         f"draw is {spec.draw} but the pool has only {len(pool)} question(s) not retired"))  # fmt: skip
    if not spec.blueprint:
        return
    line = _top_line(spec, "blueprint")
    track = tracks.get(spec.track)
    for stratum in spec.blueprint:
        if stratum.module and track is not None and track.module(stratum.module) is None:
            problems.append(
                (
                    spec.path,
                    stratum.line or line,
                    f"blueprint: unknown module {stratum.module!r} in track {spec.track!r}",
                )
            )
    errors, pool_warnings = check_blueprint(spec.blueprint, spec.draw, spec.questions, spec.module)
    problems.extend((spec.path, s.line if s else line, message) for s, message in errors)
    warnings.extend((spec.path, s.line if s else line, message) for s, message in pool_warnings)
    if spec.bank is None and any(s.module for s in spec.blueprint):
        for i, question in enumerate(spec.questions):
            if not question.get("retired") and domain_of(question, spec.module) is None:
                at = spec.lines.question_line(i) if spec.lines else 1
                warnings.append((spec.path, at, f"question {question['id']!r} has no module: no blueprint stratum "
                                 "of a module draws it"))  # fmt: skip


def check_quiz_files(
    quizzes_dir: Path, parsed_courses: Any
) -> tuple[dict[str, QuizSpec], list[Found], list[Found]]:
    """Every quiz file in the folder, checked: the specs, the problems and the warnings, as (path, line, message)."""
    tracks = _tracks_by_slug(parsed_courses)
    specs: dict[str, QuizSpec] = {}
    problems: list[Found] = []
    warnings: list[Found] = []
    if not quizzes_dir.is_dir():
        return specs, problems, warnings
    for path in sorted(quizzes_dir.glob("*.toml")):
        spec, file_problems = read_quiz_file(path, tracks)
        problems.extend((path, line, message) for line, message in file_problems)
        if spec is not None:
            specs[spec.slug] = spec
    for spec in specs.values():
        if spec.bank is not None:
            _resolve_bank(spec, specs, problems)
    for spec in specs.values():
        _check_pool(spec, tracks, problems, warnings)
    for track in tracks.values():
        wanted = (getattr(track, "completion", None) or {}).get("quizzes") or []
        line = getattr(track, "line_of", {}).get("completion", 1)
        for slug in wanted if isinstance(wanted, list) else []:
            spec = specs.get(slug)
            if spec is None:
                problems.append(
                    (track.path, line, f"completion names quiz {slug!r}, but quizzes/{slug}.toml is missing")
                )
            elif spec.track != track.slug:
                problems.append(
                    (track.path, line, f"completion names quiz {slug!r}, which belongs to {spec.track!r}")
                )
            elif spec.kind == "recertification":
                problems.append((track.path, line, f"completion names quiz {slug!r}, a recertification: it "
                                 "renews a certificate and never counts towards earning one"))  # fmt: skip
    warnings.extend(check_items(specs.values()))
    return specs, problems, warnings

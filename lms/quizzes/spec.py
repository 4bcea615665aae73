"""Reading quizzes/*.toml: every problem reported at once with its file and line, and the parsed QuizSpec."""

from __future__ import annotations

import hashlib
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from lms.content import toml_error, toml_key_lines, toml_line
from lms.quizzes.blueprint import DIFFICULTIES, Stratum, read_blueprint

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
QUESTION_ID = re.compile(r"^[A-Za-z0-9]+(-[A-Za-z0-9]+)*$")

KINDS = ("module", "final", "recertification")  # a recertification renews the certificate: not in completion
GRADINGS = ("highest", "last")
REVIEWS = ("score_only", "answers", "correct_answers")
REVIEW_AFTER = ("submit", "close")
ON_EXPIRY = ("auto_submit", "grace")
QUESTION_TYPES = ("single", "multiple", "true_false", "short")
PARTIAL_CREDIT = ("all_or_nothing", "right_minus_wrong", "per_choice")

TOP_KEYS = {
    "title", "track", "module", "kind", "time_limit_minutes", "attempts_allowed",
    "delay_between_attempts_minutes", "pass_percent", "grading", "shuffle_questions", "shuffle_choices", "draw",
    "review", "review_after", "on_expiry", "grace_seconds", "opens_at", "closes_at", "questions", "blueprint", "bank",
}  # fmt: skip
QUESTION_KEYS = {
    "id", "type", "points", "prompt", "feedback", "choices", "partial_credit", "answer", "accept", "number",
    "tolerance", "unit", "module", "difficulty", "retired",
}  # fmt: skip
CHOICE_KEYS = {"text", "correct", "feedback"}


@dataclass
class QuizSpec:
    slug: str
    path: Path
    title: str
    track: str
    module: str | None
    kind: str
    time_limit_seconds: int
    attempts_allowed: int
    delay_between_attempts_seconds: int
    pass_percent: float
    grading: str
    shuffle_questions: bool
    shuffle_choices: bool
    draw: int
    review: str
    review_after: str
    on_expiry: str
    grace_seconds: int
    opens_at: datetime | None
    closes_at: datetime | None
    questions: list[dict[str, Any]] = field(default_factory=list)
    source_hash: str = ""
    bank: str | None = None  # the quiz whose items this one draws (its own file then holds no questions)
    blueprint: list[Stratum] = field(default_factory=list)
    lines: QuizLines | None = None

    @property
    def content_hash(self) -> str:
        """What a version is made of: a change here makes a new version; settings alone do not."""
        blob = json.dumps(self.questions, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(frozen=True)
class QuizLines:
    """Lines of a quiz file's keys, by question and choice index (a missing key: the line of its table)."""

    keys: dict[str, int]

    def top_line(self, key: str) -> int:
        return toml_line(self.keys, key)

    def question_line(self, i: int, key: str | None = None) -> int:
        table = f"questions.{i}"
        return toml_line(self.keys, f"{table}.{key}" if key else table)

    def choice_line(self, i: int, j: int, key: str | None = None) -> int:
        table = f"questions.{i}.choices.{j}"
        return toml_line(self.keys, f"{table}.{key}" if key else table)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


def _choices_text(options: tuple[str, ...]) -> str:
    return ", ".join(f'"{o}"' for o in options)


class QuizFileChecker:
    """Checks one quiz file; `report(line, message)` collects problems, `spec()` returns the parsed quiz."""

    def __init__(self, path: Path, data: dict[str, Any], text: str, tracks: dict[str, Any]) -> None:
        self.path = path
        self.data = data
        self.lines = QuizLines(toml_key_lines(text))
        self.tracks = tracks
        self.problems: list[tuple[int, str]] = []

    def report(self, line: int, message: str) -> None:
        self.problems.append((line, message))

    # -- top level ------------------------------------------------------------------------------------------

    def _enum(self, key: str, options: tuple[str, ...], default: str | None = None) -> str:
        value = self.data.get(key, default)
        if value not in options:
            shown = "missing" if key not in self.data else f"{value!r}"
            self.report(self.lines.top_line(key), f"{key} must be one of {_choices_text(options)} ({shown})")
            return options[0]
        return str(value)

    def _int(self, key: str, *, minimum: int, default: int | None = None) -> int:
        value = self.data.get(key, default)
        if value is None:
            self.report(self.lines.top_line(key), f"{key} is missing")
            return minimum
        if not _is_int(value) or value < minimum:
            self.report(
                self.lines.top_line(key), f"{key} must be a whole number of at least {minimum}, got {value!r}"
            )
            return minimum
        return int(value)

    def _bool(self, key: str, default: bool) -> bool:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.report(self.lines.top_line(key), f"{key} must be true or false, got {value!r}")
            return default
        return value

    def _datetime(self, key: str) -> datetime | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, datetime):
            self.report(self.lines.top_line(key), f"{key} must be a date and time like 2026-12-31T17:00:00Z")
            return None
        if value.tzinfo is None:
            self.report(
                self.lines.top_line(key), f"{key} needs a time zone: add Z (UTC) or an offset like +02:00"
            )
            return None
        return value

    def _text(self, key: str, value: Any, line: int, what: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.report(line, f"{what} is missing or empty")
            return ""
        return value.strip()

    def spec(self) -> QuizSpec:
        data = self.data
        for key in sorted(set(data) - TOP_KEYS):
            self.report(self.lines.top_line(key), f"unknown key {key!r}")
        title = self._text("title", data.get("title"), self.lines.top_line("title"), "title")
        kind = self._enum("kind", KINDS, default="module")
        track_slug, module_slug = self._track_and_module(kind)

        minutes = data.get("time_limit_minutes")
        time_limit_seconds = 60
        if minutes is None:
            self.report(self.lines.top_line("time_limit_minutes"), "time_limit_minutes is missing")
        elif not _is_number(minutes) or minutes <= 0:
            self.report(
                self.lines.top_line("time_limit_minutes"),
                f"time_limit_minutes must be a number greater than 0, got {minutes!r}",
            )
        else:
            time_limit_seconds = max(1, round(minutes * 60))

        pass_percent = data.get("pass_percent")
        if not _is_number(pass_percent) or not 0 < pass_percent <= 100:
            self.report(
                self.lines.top_line("pass_percent"),
                f"pass_percent must be above 0 and at most 100, got {pass_percent!r}",
            )
            pass_percent = 100.0

        on_expiry = self._enum("on_expiry", ON_EXPIRY, default="auto_submit")
        grace_seconds = self._int("grace_seconds", minimum=0, default=0)
        if on_expiry == "grace" and grace_seconds == 0:
            self.report(
                self.lines.top_line("grace_seconds"), 'on_expiry = "grace" needs grace_seconds above 0'
            )

        opens_at = self._datetime("opens_at")
        closes_at = self._datetime("closes_at")
        if opens_at and closes_at and closes_at <= opens_at:
            self.report(self.lines.top_line("closes_at"), "closes_at must be after opens_at")
        review_after = self._enum("review_after", REVIEW_AFTER, default="submit")
        if review_after == "close" and closes_at is None:
            self.report(self.lines.top_line("review_after"), 'review_after = "close" needs a closes_at time')

        bank = data.get("bank")
        if bank is not None and (not isinstance(bank, str) or not SLUG.match(bank)):
            self.report(self.lines.top_line("bank"), f"bank must be the slug of another quiz, got {bank!r}")
            bank = None
        if bank is not None and "questions" in data:
            self.report(
                self.lines.top_line("questions"), f"a quiz that draws from bank {bank!r} has no questions"
            )
        questions = [] if bank is not None else self._questions()
        blueprint = read_blueprint(
            data.get("blueprint"), lambda key: toml_line(self.lines.keys, f"blueprint.{key}".rstrip(".")),
            self.report, question_types=QUESTION_TYPES,
        )  # fmt: skip
        draw = data.get("draw", sum(s.count for s in blueprint) or len(questions) or 1)
        if not _is_int(draw) or draw < 1:
            self.report(
                self.lines.top_line("draw"), f"draw must be a whole number of at least 1, got {draw!r}"
            )
            draw = 1
        elif questions and draw > len(questions):
            self.report(
                self.lines.top_line("draw"),
                f"draw is {draw} but the pool has only {len(questions)} question(s)",
            )

        return QuizSpec(
            slug=self.path.stem,
            path=self.path,
            title=title,
            track=track_slug,
            module=module_slug,
            kind=kind,
            time_limit_seconds=time_limit_seconds,
            attempts_allowed=self._int("attempts_allowed", minimum=0, default=0),
            delay_between_attempts_seconds=60
            * self._int("delay_between_attempts_minutes", minimum=0, default=0),
            pass_percent=float(pass_percent),
            grading=self._enum("grading", GRADINGS, default="highest"),
            shuffle_questions=self._bool("shuffle_questions", True),
            shuffle_choices=self._bool("shuffle_choices", True),
            draw=int(draw),
            review=self._enum("review", REVIEWS, default="correct_answers"),
            review_after=review_after,
            on_expiry=on_expiry,
            grace_seconds=grace_seconds,
            opens_at=opens_at,
            closes_at=closes_at,
            questions=questions,
            bank=bank,
            blueprint=blueprint,
            lines=self.lines,
        )

    def _track_and_module(self, kind: str) -> tuple[str, str | None]:
        track_slug = self._text("track", self.data.get("track"), self.lines.top_line("track"), "track")
        module_slug = self.data.get("module")
        track = self.tracks.get(track_slug) if track_slug else None
        if track_slug and track is None:
            self.report(
                self.lines.top_line("track"), f"unknown track {track_slug!r} (no such folder in courses/)"
            )
        if kind in ("final", "recertification"):
            if module_slug is not None:
                self.report(
                    self.lines.top_line("module"), f"a {kind} exam belongs to the track: remove module"
                )
            return track_slug, None
        if not isinstance(module_slug, str) or not module_slug.strip():
            self.report(self.lines.top_line("module"), "module is missing (a module quiz names its module)")
            return track_slug, None
        if track is not None and track.module(module_slug) is None:
            self.report(
                self.lines.top_line("module"), f"unknown module {module_slug!r} in track {track_slug!r}"
            )
        return track_slug, module_slug

    # -- questions ------------------------------------------------------------------------------------------

    def _questions(self) -> list[dict[str, Any]]:
        raw = self.data.get("questions")
        if not isinstance(raw, list) or not raw:
            self.report(self.lines.top_line("questions"), "the quiz has no [[questions]]")
            return []
        seen: dict[str, int] = {}
        questions = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                self.report(self.lines.question_line(i), "each question must be a [[questions]] table")
                continue
            question = self._question(i, item)
            qid = question["id"]
            if qid and qid in seen:
                self.report(
                    self.lines.question_line(i, "id"),
                    f"duplicate question id {qid!r} (first used on line {seen[qid]})",
                )
            elif qid:
                seen[qid] = self.lines.question_line(i, "id")
            questions.append(question)
        return questions

    def _question(self, i: int, item: dict[str, Any]) -> dict[str, Any]:
        at = self.lines.question_line
        for key in sorted(set(item) - QUESTION_KEYS):
            self.report(at(i, key), f"unknown key {key!r} in question {i + 1}")
        qid = item.get("id")
        if not isinstance(qid, str) or not QUESTION_ID.match(qid):
            self.report(at(i, "id"), f"question {i + 1}: id must be letters, digits and hyphens, got {qid!r}")
            qid = ""
        name = f"question {qid!r}" if qid else f"question {i + 1}"
        kind = item.get("type")
        if kind not in QUESTION_TYPES:
            self.report(
                at(i, "type"), f"{name}: type must be one of {_choices_text(QUESTION_TYPES)}, got {kind!r}"
            )
            kind = None
        points = item.get("points", 1)
        if not _is_number(points) or points <= 0:
            self.report(at(i, "points"), f"{name}: points must be a number above 0, got {points!r}")
            points = 1
        question: dict[str, Any] = {
            "id": qid,
            "type": kind or "single",
            "points": points,
            "prompt": self._text("prompt", item.get("prompt"), at(i, "prompt"), f"{name}: prompt"),
            "feedback": item.get("feedback", "") if isinstance(item.get("feedback", ""), str) else "",
        }
        if kind in ("single", "multiple"):
            question["choices"] = self._choices(i, item, name, kind)
            if kind == "multiple":
                rule = item.get("partial_credit")
                if rule not in PARTIAL_CREDIT:
                    self.report(
                        at(i, "partial_credit"),
                        f"{name}: partial_credit must be one of {_choices_text(PARTIAL_CREDIT)}, got {rule!r}",
                    )
                    rule = "all_or_nothing"
                question["partial_credit"] = rule
        elif kind is not None and "choices" in item:
            self.report(at(i, "choices"), f"{name}: a {kind} question has no choices")
        if kind == "true_false":
            answer = item.get("answer")
            if not isinstance(answer, bool):
                self.report(at(i, "answer"), f"{name}: a true_false question needs answer = true or false")
                answer = True
            question["answer"] = answer
        if kind == "short":
            question.update(self._short(i, item, name))
        question.update(self._tags(i, item, name))
        return question

    def _tags(self, i: int, item: dict[str, Any], name: str) -> dict[str, Any]:
        """The blueprint's tags (module, difficulty) and retirement, stored only when written (old hashes hold)."""
        at, tags = self.lines.question_line, {}
        module = item.get("module")
        track_slug = self.data.get("track")
        track = self.tracks.get(track_slug) if isinstance(track_slug, str) else None
        if module is not None:
            if not isinstance(module, str) or (track is not None and track.module(module) is None):
                self.report(at(i, "module"), f"{name}: module {module!r} is not a module of the track")
            else:
                tags["module"] = module
        difficulty = item.get("difficulty")
        if difficulty is not None:
            if difficulty not in DIFFICULTIES:
                self.report(
                    at(i, "difficulty"), f"{name}: difficulty must be one of {_choices_text(DIFFICULTIES)}"
                )
            else:
                tags["difficulty"] = difficulty
        retired = item.get("retired", False)
        if not isinstance(retired, bool):
            self.report(at(i, "retired"), f"{name}: retired must be true or false, got {retired!r}")
        elif retired:
            tags["retired"] = True
        return tags

    def _choices(self, i: int, item: dict[str, Any], name: str, kind: str) -> list[dict[str, Any]]:
        raw = item.get("choices")
        if not isinstance(raw, list) or len(raw) < 2:
            self.report(
                self.lines.question_line(i, "choices"), f"{name}: a {kind} question needs at least 2 choices"
            )
            return []
        choices = []
        for j, choice in enumerate(raw):
            line = self.lines.choice_line(i, j)
            if not isinstance(choice, dict):
                self.report(line, f"{name}: choice {j + 1} must be a [[questions.choices]] table")
                continue
            for key in sorted(set(choice) - CHOICE_KEYS):
                self.report(
                    self.lines.choice_line(i, j, key), f"{name}: unknown key {key!r} in choice {j + 1}"
                )
            correct = choice.get("correct")
            if not isinstance(correct, bool):
                self.report(
                    self.lines.choice_line(i, j, "correct"),
                    f"{name}: choice {j + 1} needs correct = true or false",
                )
                correct = False
            feedback = choice.get("feedback", "")
            choices.append(
                {
                    "id": f"c{j + 1}",
                    "text": self._text("text", choice.get("text"), self.lines.choice_line(i, j, "text"),
                                       f"{name}: choice {j + 1} text"),
                    "correct": correct,
                    "feedback": feedback if isinstance(feedback, str) else "",
                }
            )  # fmt: skip
        n_correct = sum(1 for c in choices if c["correct"])
        if kind == "single" and n_correct != 1:
            self.report(
                self.lines.question_line(i),
                f"{name}: a single choice question needs exactly one correct choice, it has {n_correct}",
            )
        if kind == "multiple" and n_correct == 0:
            self.report(
                self.lines.question_line(i), f"{name}: a multiple choice question needs a correct choice"
            )
        return choices

    def _short(self, i: int, item: dict[str, Any], name: str) -> dict[str, Any]:
        at = self.lines.question_line
        accept, number = item.get("accept"), item.get("number")
        if accept is not None and number is not None:
            self.report(at(i, "number"), f"{name}: give either accept or number, not both")
        if number is not None:
            tolerance = item.get("tolerance", 0)
            if not _is_number(number):
                self.report(at(i, "number"), f"{name}: number must be a number, got {number!r}")
                number = 0
            if not _is_number(tolerance) or tolerance < 0:
                self.report(
                    at(i, "tolerance"), f"{name}: tolerance must be a number of at least 0, got {tolerance!r}"
                )
                tolerance = 0
            unit = item.get("unit")
            if unit is not None and (not isinstance(unit, str) or not unit.strip() or len(unit) > 20):
                self.report(
                    at(i, "unit"), f'{name}: unit must be a short text like "%" or "EUR", got {unit!r}'
                )
                unit = None
            return {"number": number, "tolerance": tolerance} | ({"unit": unit.strip()} if unit else {})
        for key in ("tolerance", "unit"):
            if key in item:
                self.report(at(i, key), f"{name}: {key} only goes with number")
        if (
            not isinstance(accept, list)
            or not accept
            or not all(isinstance(a, str) and a.strip() for a in accept)
        ):
            self.report(
                at(i, "accept"),
                f'{name}: a short answer question needs accept = ["..."] (non-empty texts) or a number',
            )
            return {"accept": []}
        return {"accept": [a.strip() for a in accept]}


def read_quiz_file(path: Path, tracks: dict[str, Any]) -> tuple[QuizSpec | None, list[tuple[int, str]]]:
    """Parse and check one file: the spec (None when unreadable) and its problems as (line, message)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, [(1, "the file is not UTF-8 text")]
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line, _ = toml_error(error, text)
        return None, [(line, f"not valid TOML: {error}")]
    if not SLUG.match(path.stem):
        return None, [
            (1, f"the file name {path.name!r} must be a slug: lower case letters, digits and hyphens")
        ]
    checker = QuizFileChecker(path, data, text, tracks)
    spec = checker.spec()
    spec.source_hash = hashlib.sha256(raw).hexdigest()
    return spec, checker.problems

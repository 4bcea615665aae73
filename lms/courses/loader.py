"""The courses content kind: read courses/<track>/ into TrackSpecs, report every problem, load them into the database.

`check` never stops at the first problem: it reports each one with its file and line, and still fills
content.parsed["courses"] with what it could read, so later kinds (quizzes, assignments) can check against it.
`sync` runs only on content that passed, and never deletes: what left the files is retired.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lms.content import ContentKind, ContentSet, read_front_matter, toml_error, toml_key_lines
from lms.courses.spec import LessonSpec, ModuleSpec, TrackSpec
from lms.courses.syncing import sync

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
MIN_WORDS = 300
UNLOCK_RULES = ("in_order", "free")
TRACK_KEYS = {
    "title", "summary", "certifies", "validity_months", "unlock", "program_weeks", "completion", "modules",
    "assignment",  # read by the assignments checker, not here
}  # fmt: skip
MODULE_KEYS = {"slug", "title", "summary", "week"}
COMPLETION_KEYS = {"modules", "quizzes", "assignment"}
LESSON_KEYS = {"title", "order", "minutes", "summary"}


def courses_kind() -> ContentKind:
    return ContentKind("courses", check, sync)


def track_key_lines(text: str) -> dict[str, int]:
    """TrackSpec.line_of: the line of each table, key and array item (each [assignment] rubric level) of a track.toml."""
    return toml_key_lines(text, array_items=True)


# ---------------------------------------------------------------------------------------------------------------
# Reading a file


def _read(content: ContentSet, path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        content.problem(path, line, "the file is not UTF-8 text; save it as UTF-8")
    except OSError as error:
        content.problem(path, 1, f"cannot read the file: {error.strerror}")
    return None


# ---------------------------------------------------------------------------------------------------------------
# Field checks shared by track.toml, its [[modules]] and lesson front matter


class _Fields:
    """Reads typed fields from one TOML table, reporting each missing or wrong one at its line."""

    def __init__(
        self, content: ContentSet, path: Path, data: dict[str, Any], lines: dict[str, int], prefix: str,
        table_line: int, where: str,
    ) -> None:  # fmt: skip
        self.content, self.path, self.data, self.lines = content, path, data, lines
        self.prefix, self.table_line, self.where = prefix, table_line, where

    def line(self, key: str) -> int:
        return self.lines.get(self.prefix + key, self.table_line)

    def report(self, key: str | None, message: str) -> None:
        self.content.problem(self.path, self.line(key) if key else self.table_line, message)

    def _missing(self, key: str, required: bool) -> bool:
        if key in self.data:
            return False
        if required:
            self.report(None, f'missing "{key}"{self.where}')
        return True

    def text(self, key: str, required: bool = True) -> str:
        if self._missing(key, required):
            return ""
        value = self.data[key]
        if not isinstance(value, str) or not value.strip():
            self.report(key, f'"{key}" must be non-empty text in quotes{self.where}')
            return ""
        return value.strip()

    def slug(self, key: str) -> str:
        value = self.text(key)
        if value and not SLUG.match(value):
            self.report(
                key, f'"{key}" = "{value}" is not a valid slug: use lower-case letters, digits and hyphens'
            )
            return ""
        return value

    def whole_number(
        self, key: str, required: bool = True, minimum: int = 1, maximum: int | None = None
    ) -> int | None:
        if self._missing(key, required):
            return None
        value = self.data[key]
        too_big = isinstance(value, int) and maximum is not None and value > maximum
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum or too_big:
            allowed = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
            self.report(key, f'"{key}" must be a whole number {allowed}, not {_show(value)}{self.where}')
            return None
        return value

    def choice(self, key: str, options: tuple[str, ...]) -> str:
        if self._missing(key, True):
            return ""
        value = self.data[key]
        if value not in options:
            listed = " or ".join(f'"{option}"' for option in options)
            self.report(key, f'"{key}" must be {listed}, not {_show(value)}')
            return ""
        return str(value)

    def unknown(self, known: set[str]) -> None:
        for key in self.data:
            if key not in known:
                allowed = ", ".join(sorted(known))
                self.report(key, f'unknown field "{key}"{self.where} (known fields: {allowed})')


def _show(value: Any) -> str:
    return json.dumps(value) if isinstance(value, str | int | float | bool) else f"a {type(value).__name__}"


# ---------------------------------------------------------------------------------------------------------------
# check


def check(content: ContentSet) -> None:
    """Parse every courses/<track>/ folder into content.parsed["courses"], reporting every problem found."""
    tracks: dict[str, TrackSpec] = {}
    root = content.courses_dir
    if not root.is_dir():
        content.problem(root, 1, "the courses folder does not exist")
        content.parsed["courses"] = tracks
        return
    for track_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        spec = _check_track(content, track_dir)
        if spec is not None:
            tracks[spec.slug] = spec
    content.parsed["courses"] = tracks


def _check_track(content: ContentSet, track_dir: Path) -> TrackSpec | None:
    toml_path = track_dir / "track.toml"
    if not toml_path.is_file():
        content.problem(track_dir, 1, "this track folder has no track.toml")
        return None
    if not SLUG.match(track_dir.name):
        content.problem(
            toml_path, 1, f'the folder name "{track_dir.name}" is not a valid track slug: '
            "use lower-case letters, digits and hyphens",
        )  # fmt: skip
    text = _read(content, toml_path)
    if text is None:
        return None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        line, message = toml_error(error, text)
        content.problem(toml_path, line, f"TOML syntax error: {message}")
        return None
    lines = track_key_lines(text)
    fields = _Fields(content, toml_path, raw, lines, "", 1, " in track.toml")
    fields.unknown(TRACK_KEYS)
    program_weeks = fields.whole_number("program_weeks", required=False)
    spec = TrackSpec(
        slug=track_dir.name,
        path=toml_path,
        title=fields.text("title"),
        summary=fields.text("summary"),
        certifies=fields.text("certifies"),
        validity_months=fields.whole_number("validity_months") or 0,
        unlock=fields.choice("unlock", UNLOCK_RULES) or "in_order",
        program_weeks=program_weeks,
        completion=_check_completion(content, toml_path, raw, lines),
        raw=raw,
        line_of=lines,
    )
    spec.modules = _check_modules(content, track_dir, spec)
    _check_lessons(content, track_dir, spec)
    return spec


def _check_completion(
    content: ContentSet, path: Path, raw: dict[str, Any], lines: dict[str, int]
) -> dict[str, Any]:
    if "completion" not in raw:
        content.problem(path, 1, "missing the [completion] table (the rule for earning the certificate)")
        return {}
    data = raw["completion"]
    if not isinstance(data, dict):
        content.problem(path, lines.get("completion", 1), '"completion" must be a [completion] table')
        return {}
    fields = _Fields(
        content, path, data, lines, "completion.", lines.get("completion", 1), " in [completion]"
    )
    fields.unknown(COMPLETION_KEYS)
    rule: dict[str, Any] = {"modules": fields.choice("modules", ("all",)) or "all"}
    quizzes = data.get("quizzes", [])
    if quizzes == "all":  # every module quiz and the final exam of the track
        rule["quizzes"] = "all"
    elif not isinstance(quizzes, list) or not all(isinstance(q, str) and q.strip() for q in quizzes):
        fields.report(
            "quizzes", '"quizzes" must be a list of quiz slugs, like ["strategist-final"], or "all"'
        )
        rule["quizzes"] = []
    else:
        rule["quizzes"] = list(quizzes)
    if "assignment" in data:
        rule["assignment"] = fields.text("assignment")
    return rule


def _check_modules(content: ContentSet, track_dir: Path, track: TrackSpec) -> list[ModuleSpec]:
    path, raw, lines = track.path, track.raw, track.line_of
    if "modules" not in raw:
        content.problem(path, 1, 'missing "modules": list the modules in order, each in a [[modules]] table')
        return []
    entries = raw["modules"]
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        content.problem(path, lines.get("modules", 1), '"modules" must be a list of [[modules]] tables')
        return []
    if not entries:
        content.problem(path, lines.get("modules", 1), "the track lists no modules")
        return []
    modules: list[ModuleSpec] = []
    first_line: dict[str, int] = {}
    for index, data in enumerate(entries):
        header = lines.get(f"modules.{index}", 1)
        fields = _Fields(content, path, data, lines, f"modules.{index}.", header, f" in module {index + 1}")
        fields.unknown(MODULE_KEYS)
        slug = fields.slug("slug")
        week = None
        if track.program_weeks:
            week = fields.whole_number("week", maximum=track.program_weeks)
        elif "week" in data:
            fields.report("week", '"week" is only used when the track sets "program_weeks"')
        module = ModuleSpec(
            slug=slug, title=fields.text("title"), summary=fields.text("summary"), week=week, position=index,
            line=header,
        )  # fmt: skip
        if not slug:
            continue
        if slug in first_line:
            fields.report("slug", f'duplicate module slug "{slug}" (already used on line {first_line[slug]})')
            continue
        first_line[slug] = fields.line("slug")
        if not (track_dir / slug).is_dir():
            fields.report(
                "slug", f'module "{slug}" is listed but its folder {track_dir.name}/{slug}/ does not exist'
            )
            continue
        modules.append(module)
    return modules


EXEMPLARS_FOLDER = "exemplars"  # courses/<track>/exemplars/: graded examples markers calibrate on, not lessons


def _check_lessons(content: ContentSet, track_dir: Path, track: TrackSpec) -> None:
    modules = {module.slug: module for module in track.modules}
    brief = (
        track.raw.get("assignment", {}).get("brief")
        if isinstance(track.raw.get("assignment"), dict)
        else None
    )
    brief_path = (track_dir / brief).resolve() if isinstance(brief, str) else None
    first_path: dict[str, Path] = {}
    for path in sorted(track_dir.rglob("*.md")):
        parts = path.relative_to(track_dir).parts
        if any(part.startswith(".") for part in parts) or path.resolve() == brief_path:
            continue
        if len(parts) > 1 and parts[0] == EXEMPLARS_FOLDER and parts[0] not in modules:
            continue  # reference work for markers, checked by the assignments feature
        if len(parts) != 2 or parts[0] not in modules:
            content.problem(
                path, 1, "no module lists this lesson: put it in the folder of a module named in track.toml's "
                "[[modules]], or add its folder there",
            )  # fmt: skip
            continue
        lesson = _check_lesson(content, path, parts[0])
        if lesson is None:
            continue
        if lesson.slug in first_path:
            other = content.relative(first_path[lesson.slug])
            content.problem(path, 1, f'duplicate lesson slug "{lesson.slug}": {other} has the same file name, '
                            "and lesson file names must be unique within a track")  # fmt: skip
            continue
        first_path[lesson.slug] = path
        modules[parts[0]].lessons.append(lesson)
    known = {lesson.path.resolve() for module in track.modules for lesson in module.lessons}
    for module in track.modules:
        module.lessons.sort(key=lambda lesson: (lesson.order, lesson.slug))
        if not module.lessons and not any((track_dir / module.slug).glob("*.md")):
            content.problem(track.path, module.line, f'module "{module.slug}" has no lessons')
        seen_order: dict[int, LessonSpec] = {}
        for lesson in module.lessons:
            other = seen_order.setdefault(lesson.order, lesson) if lesson.order else lesson
            if other is not lesson:
                content.problem(
                    lesson.path, lesson.line_of.get("order", 1), f"order = {lesson.order} is also used by "
                    f"{other.path.name} in this module; give each lesson its own position",
                )  # fmt: skip
            _check_links(content, lesson, known)


# ---------------------------------------------------------------------------------------------------------------
# One lesson file

_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*")
_LINK = re.compile(
    r"""\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^\s)>]*)>?(?:\s+(?:"[^"]*"|'[^']*'|\([^)]*\)))?\s*\)"""
)
_LINK_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?")
_URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_RAW_HTML = re.compile(r"(?<!\\)(?:</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|<!--)")
_PRACTICE = re.compile(r"^##\s+Practice\s*#*\s*$", re.IGNORECASE)
_HEADING = re.compile(r"^(#{1,6})\s")


def _prose_lines(lesson: LessonSpec) -> list[tuple[int, str]]:
    """The lesson body's lines with their file line numbers, without fenced code and inline code spans."""
    lines: list[tuple[int, str]] = []
    fence = ""
    for offset, line in enumerate(lesson.markdown.split("\n")):
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
            continue
        if opening:
            fence = opening.group(1)
            continue
        lines.append((lesson.body_line + offset, _CODE_SPAN.sub(" ", line)))
    return lines


def _check_lesson(content: ContentSet, path: Path, module_slug: str) -> LessonSpec | None:
    text = _read(content, path)
    if text is None:
        return None
    front = read_front_matter(
        content, path, text, 'a lesson starts with a "+++" line, then title, order, minutes and summary'
    )
    if front is None:
        return None
    data, key_lines, lines, end = front.data, front.key_lines, front.lines, front.body_index - 1
    fields = _Fields(content, path, data, key_lines, "", 1, " in the front matter")
    fields.unknown(LESSON_KEYS)
    slug = path.stem
    if not SLUG.match(slug):
        content.problem(path, 1, f'the file name "{path.name}" is not a valid lesson slug: '
                        "use lower-case letters, digits and hyphens, ending in .md")  # fmt: skip
    lesson = LessonSpec(
        slug=slug,
        path=path,
        title=fields.text("title"),
        order=fields.whole_number("order") or 0,
        minutes=fields.whole_number("minutes", maximum=600) or 0,
        summary=fields.text("summary"),
        markdown="\n".join(lines[end + 1 :]),
        module=module_slug,
        body_line=end + 2,
        line_of=key_lines,
    )
    _check_body(content, lesson, last_line=max(1, len(text.splitlines())))
    return lesson if SLUG.match(slug) else None


def _check_body(content: ContentSet, lesson: LessonSpec, last_line: int) -> None:
    prose = _prose_lines(lesson)
    words = 0
    for number, line in prose:
        words += len(_WORD.findall(_LINK.sub(lambda link: link.group(0).split("](")[0], line)))
        for match in _RAW_HTML.finditer(line):
            tag = match.group(0) if len(match.group(0)) <= 40 else match.group(0)[:37] + "..."
            content.problem(lesson.path, number, f"raw HTML ({tag}) is not allowed in a lesson: write it in "
                            "Markdown (raw HTML is removed when the lesson is rendered)")  # fmt: skip
    practice = next((i for i, (_, line) in enumerate(prose) if _PRACTICE.match(line)), None)
    if practice is None:
        content.problem(lesson.path, last_line, 'no "## Practice" section: end the lesson with a practice prompt '
                        'under a "## Practice" heading')  # fmt: skip
    else:
        section = []
        for _, line in prose[practice + 1 :]:
            heading = _HEADING.match(line)
            if heading and len(heading.group(1)) <= 2:
                break
            section.append(line)
        if not any(line.strip() for line in section):
            content.problem(lesson.path, prose[practice][0], 'the "## Practice" section is empty')
    if words < MIN_WORDS:
        content.problem(lesson.path, lesson.body_line, f"only {words} words of text: a lesson needs at least "
                        f"{MIN_WORDS} words of real teaching text")  # fmt: skip


def _check_links(content: ContentSet, lesson: LessonSpec, known: set[Path]) -> None:
    for number, line in _prose_lines(lesson):
        targets = [m.group(1) for m in _LINK.finditer(line)]
        definition = _LINK_DEFINITION.match(line)
        if definition:
            targets.append(definition.group(1))
        for target in targets:
            scheme = _URL_SCHEME.match(target)
            if scheme and scheme.group(0).lower() not in ("http:", "https:", "mailto:"):
                content.problem(lesson.path, number, f'link to "{target}": links may only use http, https or '
                                "mailto addresses (others are removed when the lesson is rendered)")  # fmt: skip
            if not target or target.startswith(("#", "/")) or scheme:
                continue
            file_part = unquote(target.split("#", 1)[0].split("?", 1)[0])
            if not file_part.endswith(".md"):
                content.problem(lesson.path, number, f'link to "{target}": link to another lesson by its file, '
                                'like "other-lesson.md" or "../other-module/other-lesson.md"')  # fmt: skip
            elif (lesson.path.parent / file_part).resolve() not in known:
                content.problem(lesson.path, number, f'broken link to "{target}": there is no lesson at that '
                                "path in this track")  # fmt: skip


# ---------------------------------------------------------------------------------------------------------------
# sync

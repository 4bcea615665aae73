"""Every lesson of both real tracks has the same teaching frame.

A lesson opens with a "## What you will learn" section (2 to 4 bullet points: its learning objectives), ends
with a "## Recap" section followed by a "## Sources" section crediting the authors and publications it draws
on, and has at least MIN_BODY_WORDS words of body text. The test is parametrized per lesson, so a failure
names the file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from lms import PROJECT_ROOT

MIN_BODY_WORDS = 400  # words of body text (front matter excluded) every lesson of both tracks must have
MIN_OBJECTIVES, MAX_OBJECTIVES = 2, 4
OBJECTIVES_HEADING, RECAP_HEADING, SOURCES_HEADING = "What you will learn", "Recap", "Sources"
TRACKS = ("social-media-strategist", "social-media-manager")
COURSES = PROJECT_ROOT / "courses"

_FRONT_MATTER = re.compile(r"\A\+\+\+\n.*?\n\+\+\+\n", re.S)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$", re.M)
_BULLET = re.compile(r"^\s{0,3}[-*+]\s+\S", re.M)


def _lessons() -> list[Path]:
    found = []
    for track in TRACKS:
        for path in sorted((COURSES / track).glob("*/*.md")):
            if path.parent.name != "exemplars":  # exemplars are reference submissions, not lessons
                found.append(path)
    return found


LESSONS = _lessons()


def _body(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    match = _FRONT_MATTER.match(text)
    assert match, f"{path.name}: no +++ front matter"
    return text[match.end():]


def _sections(body: str) -> list[tuple[int, str, str]]:
    """(level, title, text up to the next heading of the same or a higher level)"""
    heads = list(_HEADING.finditer(body))
    out = []
    for i, head in enumerate(heads):
        level = len(head.group(1))
        end = next((h.start() for h in heads[i + 1:] if len(h.group(1)) <= level), len(body))
        out.append((level, head.group(2), body[head.end():end]))
    return out


def _first_list_length(text: str) -> int:
    """The number of bullet points in the first list of a section (the lesson's opening text may follow it)."""
    count = 0
    for line in text.strip("\n").splitlines():
        if _BULLET.match(line):
            count += 1
        elif count and (not line.strip() or line.startswith("  ")):
            continue  # a blank line or a continuation line inside the list
        elif count:
            break
    return count


def test_both_tracks_have_lessons():
    for track in TRACKS:
        assert any(p.parts[-3] == track for p in LESSONS), f"no lessons found for {track}"


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: f"{p.parts[-3]}/{p.parts[-2]}/{p.name}")
def test_lesson_structure(path: Path):
    body = _body(path)
    sections = _sections(body)
    h2 = [(title, text) for level, title, text in sections if level == 2]
    titles = [title for title, _ in h2]
    problems = []

    # Learning objectives near the top: the first ## section, with 2-4 bullet points.
    if OBJECTIVES_HEADING not in titles:
        problems.append(f'no "## {OBJECTIVES_HEADING}" section')
    else:
        if titles.index(OBJECTIVES_HEADING) != 0:
            problems.append(f'"## {OBJECTIVES_HEADING}" is not the first ## section')
        bullets = _first_list_length(dict(h2)[OBJECTIVES_HEADING])
        if not MIN_OBJECTIVES <= bullets <= MAX_OBJECTIVES:
            problems.append(f"{bullets} learning objectives (want {MIN_OBJECTIVES}-{MAX_OBJECTIVES} bullet points)")

    # A recap, then sources as the last section.
    for heading in (RECAP_HEADING, SOURCES_HEADING):
        if heading not in titles:
            problems.append(f'no "## {heading}" section')
        elif len(dict(h2)[heading].split()) < 10:
            problems.append(f'"## {heading}" is almost empty')
    if titles and titles[-1] != SOURCES_HEADING:
        problems.append(f'the last ## section is "{titles[-1]}", not "{SOURCES_HEADING}"')
    if (
        RECAP_HEADING in titles
        and SOURCES_HEADING in titles
        and titles.index(RECAP_HEADING) > titles.index(SOURCES_HEADING)
    ):
        problems.append(f'"## {RECAP_HEADING}" comes after "## {SOURCES_HEADING}"')

    words = len(re.sub(r"[#|*_`>\-]+", " ", body).split())
    if words < MIN_BODY_WORDS:
        problems.append(f"{words} words of body text (minimum {MIN_BODY_WORDS})")

    assert not problems, f"{path.relative_to(COURSES)}: " + "; ".join(problems)

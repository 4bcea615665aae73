"""Lesson Markdown to sanitized HTML, done once at sync time: requests only ever serve the stored result."""

from __future__ import annotations

import re

from lms.markdown import render_markdown

# Bump when the output of render_lesson changes, so the next sync renders every lesson again.
RENDER_VERSION = 1

LESSON_LINK = re.compile(r"^(?:[^#?]*/)?([a-z0-9]+(?:-[a-z0-9]+)*)\.md(#.*)?$")


def lesson_link(url: str) -> str:
    """A relative link to another lesson file becomes that lesson's page, relative to the current lesson page.

    Lesson pages live side by side (/tracks/<track>/lessons/<slug>) and lesson slugs are unique within a track,
    so `../module/other.md#part` becomes `other#part`: correct under any URL prefix the app is mounted at."""
    match = LESSON_LINK.match(url)
    if match is None:
        return url
    return match.group(1) + (match.group(2) or "")


def render_lesson(text: str) -> str:
    """Render lesson Markdown (tables, fenced code, footnotes, heading anchors) to sanitized HTML.

    Raw HTML is not part of a lesson: it is escaped, so it shows as text instead of reaching the page (the
    content checker reports it too). The sanitizing policy is lms.markdown's."""
    return render_markdown(text, heading_links=True, relative_url=lesson_link)

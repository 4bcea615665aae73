"""Lesson Markdown to sanitized HTML, done once at sync time: requests only ever serve the stored result."""

from __future__ import annotations

import re

import markdown
import nh3

# Bump when the output of render_lesson changes, so the next sync renders every lesson again.
RENDER_VERSION = 1

HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
ALLOWED_TAGS = HEADINGS | {
    "a", "abbr", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "hr", "img", "li", "ol", "p",
    "pre", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title"},
    "li": {"id"},  # footnotes
    "sup": {"id"},  # footnote references
    **{heading: {"id"} for heading in HEADINGS},  # anchors from the table of contents extension
}
ALLOWED_CLASSES = {
    "a": {"headerlink", "footnote-ref", "footnote-backref"},
    "div": {"footnote"},
}
LESSON_LINK = re.compile(r"^(?:[^#?]*/)?([a-z0-9]+(?:-[a-z0-9]+)*)\.md(#.*)?$")


def lesson_link(url: str) -> str:
    """A relative link to another lesson file becomes that lesson's page, relative to the current lesson page.

    Lesson pages live side by side (/tracks/<track>/lessons/<slug>) and lesson slugs are unique within a track,
    so `../module/other.md#part` becomes `other#part`: correct under any URL prefix the app is mounted at."""
    match = LESSON_LINK.match(url)
    if match is None:
        return url
    return match.group(1) + (match.group(2) or "")


CLEANER = nh3.Cleaner(
    tags=ALLOWED_TAGS,
    clean_content_tags={"script", "style"},
    attributes=ALLOWED_ATTRIBUTES,
    allowed_classes=ALLOWED_CLASSES,
    url_schemes={"http", "https", "mailto"},
    url_relative=lesson_link,
)


def _markdown() -> markdown.Markdown:
    md = markdown.Markdown(
        extensions=["tables", "fenced_code", "footnotes", "toc"],
        extension_configs={"toc": {"permalink": True, "permalink_title": "Link to this section"}},
        output_format="html",
    )
    # Raw HTML is not part of a lesson: escape it, so it shows as text instead of reaching the page.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    return md


def render_lesson(text: str) -> str:
    """Render lesson Markdown (tables, fenced code, footnotes, heading anchors) to sanitized HTML."""
    return CLEANER.clean(_markdown().convert(text))

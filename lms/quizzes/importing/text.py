"""Moodle's text formats to our plain text: quiz prompts, choices and feedback are shown as text (escaped), so
HTML from Moodle is turned into readable text (paragraphs, line breaks, lists, links with their address), never
passed through. Pure."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "tr", "ul", "ol"}
_DROPPED = {"script", "style", "head", "title"}
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")


class _TextOfHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self.images: list[str] = []
        self.skipping = 0
        self.lists: list[list[int]] = []  # per open list: [next number] for <ol>, [] for <ul>

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in _DROPPED:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in ("ul", "ol"):
            self.parts.append("\n\n")
            self.lists.append([1] if tag == "ol" else [])
        elif tag == "li":
            marker = "- "
            if self.lists and self.lists[-1]:
                marker = f"{self.lists[-1][0]}. "
                self.lists[-1][0] += 1
            self.parts.append("\n" + marker)
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")
        elif tag == "a":
            self.links.append(values.get("href") or "")
        elif tag == "img":
            alt = (values.get("alt") or "").strip()
            self.images.append(values.get("src") or "")
            self.parts.append(f"[image: {alt}]" if alt else "[image]")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self.parts.append("\n\n")
        elif tag in _BLOCKS:
            self.parts.append("\n\n")
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href.startswith(("http://", "https://", "mailto:")):
                self.parts.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(re.sub(r"\s+", " ", data))


def _tidy(text: str) -> str:
    lines = [line.strip() for line in text.replace("\xa0", " ").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(source: str) -> tuple[str, list[str]]:
    """The text of an HTML fragment, and notes on what could not come along (images)."""
    parser = _TextOfHtml()
    parser.feed(source)
    parser.close()
    notes = [
        f"image {src!r} not imported (our quiz texts hold no images); its alt text is kept"
        for src in parser.images
    ]
    return _tidy("".join(parser.parts)), notes


def to_plain(text: str, text_format: str) -> tuple[str, list[str]]:
    """A Moodle text in its format (html, moodle, plain, markdown; XML's html, moodle_auto_format, plain_text,
    markdown) as our plain text, with notes on what was lost."""
    text_format = text_format.lower()
    if text_format in ("html",):
        return html_to_text(text)
    if text_format in ("moodle", "moodle_auto_format"):
        # Moodle's auto-format: text whose line breaks are kept, with HTML tags and entities allowed in it.
        if _TAG.search(text):
            return html_to_text(text.replace("\n", "<br>"))
        return _tidy(html.unescape(text)), []
    return _tidy(text), []  # plain text and Markdown are shown as written

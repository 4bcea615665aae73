"""Markdown to sanitized HTML: the one renderer and the one sanitizing policy for text that authors write.

Lessons and assignment briefs are rendered once, when content is synced; pages serve the stored HTML. Whatever the
Markdown says, what reaches a page passes the policy below (an allowlist, applied by nh3/ammonia):

- Tags: headings, paragraphs, emphasis, lists, block quotes, code, rules, line breaks, tables, images, links,
  abbreviations, sub/superscript, deletions, and the `div` that holds footnotes. Nothing else: no script, style,
  iframe, object, embed, form, svg or math; `script` and `style` are dropped with their content, any other
  unlisted tag is dropped and its text kept.
- Attributes: `href` and `title` on links; `src`, `alt` and `title` on images; `title` on abbreviations; `start`
  on ordered lists; `id` on headings, list items and superscripts (heading anchors and footnotes); `title` and
  `lang` on any tag (ammonia's generic attributes). No `style`, no event handlers (`on...`), no other attribute.
  Classes only where Markdown's own extensions set them: heading permalinks (`headerlink`) and footnotes
  (`footnote`, `footnote-ref`, `footnote-backref`).
- URLs: absolute ones only with http, https or mailto (so never javascript:, vbscript: or data:); relative ones
  kept, or rewritten by the caller (lessons turn links to lesson files into lesson pages).
- Every link gets `rel="noopener noreferrer"`. Comments are removed.

Raw HTML in the Markdown is never markup: by default it is escaped (shown as text, as lessons do, where the
content checker also reports it); with `raw_html="remove"` it is handed to the sanitizer, which keeps only what the
policy allows (assignment briefs).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, Literal

import markdown
import nh3

HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
ALLOWED_TAGS = HEADINGS | {
    "a", "abbr", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em", "hr", "img", "li", "ol", "p",
    "pre", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title"},
    "ol": {"start"},  # a numbered list that does not start at 1
    "li": {"id"},  # footnotes
    "sup": {"id"},  # footnote references
    **{heading: {"id"} for heading in HEADINGS},  # anchors from the table of contents extension
}
ALLOWED_CLASSES: dict[str, set[str]] = {
    "a": {"headerlink", "footnote-ref", "footnote-backref"},
    "div": {"footnote"},
}
CLEAN_CONTENT_TAGS = frozenset({"script", "style"})
URL_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "noopener noreferrer"
EXTENSIONS = ("tables", "fenced_code", "footnotes")

RawHtml = Literal["escape", "remove"]
RelativeUrl = Callable[[str], str]


def render_markdown(
    text: str,
    *,
    raw_html: RawHtml = "escape",
    heading_links: bool = False,
    extra_extensions: Sequence[str] = (),
    relative_url: RelativeUrl | None = None,
) -> str:
    """Render Markdown (tables, fenced code, footnotes) to HTML that passes the policy above.

    `heading_links` gives each heading an id and a permalink; `extra_extensions` names further Python-Markdown
    extensions (their output still passes the policy); `relative_url` rewrites each relative link and image URL.
    """
    return sanitize(_converter(raw_html, heading_links, tuple(extra_extensions)).convert(text), relative_url)


def sanitize(html: str, relative_url: RelativeUrl | None = None) -> str:
    """Keep only what the policy allows of `html`."""
    return _cleaner(relative_url).clean(html)


@cache
def _cleaner(relative_url: RelativeUrl | None) -> nh3.Cleaner:
    # One cleaner per URL rewriter (a handful at most): building one compiles the whole policy.
    return nh3.Cleaner(
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(CLEAN_CONTENT_TAGS),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        allowed_classes={tag: set(names) for tag, names in ALLOWED_CLASSES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=LINK_REL,
        url_relative=relative_url,
    )


def _converter(raw_html: RawHtml, heading_links: bool, extra: tuple[str, ...]) -> markdown.Markdown:
    configs: dict[str, dict[str, Any]] = {}
    extensions = [*EXTENSIONS, *extra]
    if heading_links:
        extensions.append("toc")
        configs["toc"] = {"permalink": True, "permalink_title": "Link to this section"}
    md = markdown.Markdown(extensions=extensions, extension_configs=configs, output_format="html")
    if raw_html == "escape":
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")
    return md

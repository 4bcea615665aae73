"""Hostile input: an XSS corpus, and a checker that finds anything in a page that could run script."""

from __future__ import annotations

from html.parser import HTMLParser

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '"><script>alert(1)</script>',
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<a href="javascript:alert(1)">click</a>',
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "'\"><img src=x onerror=alert(1)>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "[link](javascript:alert(1))",
    "[x](JaVaScRiPt:alert(1))",
    "![img](javascript:alert(1))",
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    "{{ 7*7 }}",
]

SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:text/html")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}


class _ActiveContentFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "script" and not (attributes.get("src") or "").startswith("/static/"):
            self.found.append(f"<script> {attributes}")
        if tag in {"iframe", "object", "embed"} and "srcdoc" in attributes:
            self.found.append(f"<{tag} srcdoc>")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=...>")
            if name in URL_ATTRIBUTES and value:
                squashed = "".join(value.split()).lower()
                if squashed.startswith(SCRIPT_SCHEMES):
                    self.found.append(f"<{tag} {name}={value!r}>")

    handle_startendtag = handle_starttag


def active_content(html: str) -> list[str]:
    """Every tag or attribute in the page that could run script (our own /static scripts excepted)."""
    finder = _ActiveContentFinder()
    finder.feed(html)
    finder.close()
    return finder.found

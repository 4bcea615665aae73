"""Where a sign-in may send the browser next: only a path on this site, judged as a browser would read it.

A `next` that a browser could read as another site (`//evil`, `/\\evil`, `/%09/evil`, `https:evil`) would let a
phishing link borrow our sign-in page. Browsers drop tabs and newlines inside a URL, read a backslash as a slash
and resolve dot segments; some servers decode `%2F` before redirecting again. Rather than copy each of those
rules, a target is kept only if it is plain printable ASCII starting with one slash, and its path stays a plain
same-site path however many times it is percent-decoded. Everything else falls back to the caller's default.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

MAX_LENGTH = 2048
_DECODE_ROUNDS = 4  # `%252F` is `%2F` after one round and `/` after two; more rounds than anyone nests


def _printable_ascii(text: str) -> bool:
    """No spaces, tabs, CR/LF, other controls or non-ASCII characters (which browsers drop or rewrite)."""
    return all(0x21 <= ord(ch) <= 0x7E for ch in text)


def _plain_path(path: str) -> bool:
    """Whether this path (possibly decoded) can only mean a page on the current site."""
    if not path.startswith("/") or not _printable_ascii(path) or "\\" in path:  # "\" reads as "/"
        return False
    # `//evil` is another host; `/.//evil` and `/x/..//evil` become `//evil` once dot segments go.
    return "//" not in path and "/./" not in path + "/" and "/../" not in path + "/"


def safe_next(target: str | None, fallback: str) -> str:
    """`target` when it is a path on this site (its query and fragment kept as they are), else `fallback`."""
    if not target or len(target) > MAX_LENGTH or not _printable_ascii(target) or "\\" in target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    path = target.partition("#")[0].partition("?")[0]  # as written: urlsplit would swallow the `//` of `///x`
    for _ in range(_DECODE_ROUNDS):
        if not _plain_path(path):
            return fallback
        try:
            decoded = unquote(path, errors="strict")
        except UnicodeDecodeError:  # `%ff`: no honest link of ours has it
            return fallback
        if decoded == path:
            return target
        path = decoded
    return fallback  # still changing after every round: nested more deeply than any honest link

"""lms.markdown: one sanitizing policy for lessons and assignment briefs; what it removes, and what it keeps."""

from __future__ import annotations

import pytest

from lms.assignments.loader import render_brief
from lms.courses.rendering import render_lesson
from lms.markdown import render_markdown, sanitize
from tests.hostile import XSS_PAYLOADS, active_content

RAW_HTML = ("escape", "remove")
HOSTILE = "\n\n".join(XSS_PAYLOADS) + "\n\n" + "\n".join(XSS_PAYLOADS) + "\n"


@pytest.mark.parametrize("raw_html", RAW_HTML)
def test_the_xss_corpus_renders_inert(raw_html):
    html = render_markdown(HOSTILE, raw_html=raw_html)
    assert active_content(html) == []
    assert "<script" not in html and "<iframe" not in html and "<svg" not in html and "<style" not in html


def test_raw_html_is_escaped_by_default_and_shows_as_text():
    html = render_markdown(
        '<script>alert("x")</script>\n\nSome <b>bold</b> and <img src=x onerror=alert(1)>.\n'
    )
    assert "&lt;script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<b>" not in html and "<img" not in html


def test_removed_raw_html_keeps_what_the_policy_allows_and_nothing_else():
    html = render_markdown(
        '<script>alert("x")</script>\n\nSome <b>bold</b>, <img src="chart.png" onerror=alert(1) width=9>, '
        '<span style="color:red" onclick="go()">styled</span>.\n',
        raw_html="remove",
    )
    assert "alert" not in html  # a script goes with its content
    assert '<p>Some bold, <img src="chart.png">, styled.</p>' in html  # unlisted tags go, their text stays
    assert "onerror" not in html and "onclick" not in html and "style=" not in html and "width" not in html


@pytest.mark.parametrize(
    "link",
    [
        "[x](javascript:alert(1))",
        "[x](JaVaScRiPt:alert(1))",
        "[x](  javascript:alert(1))",
        "![x](javascript:alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html,<script>alert(1)</script>)",
        "[x](tel:+4412345)",
        "[x](ftp://example.org/file)",
    ],
)
def test_only_http_https_and_mailto_urls_survive(link):
    html = render_markdown(link + "\n")
    assert "href=" not in html and "src=" not in html
    assert "javascript" not in html.lower() and "vbscript" not in html


def test_event_handlers_styles_and_unlisted_attributes_are_removed():
    html = sanitize(
        '<p onclick="go()" style="color:red" class="x" id="y" title="kept" lang="en">text</p>'
        '<table><tr><td colspan="2" align="left" onmouseover="go()">cell</td></tr></table>'
    )
    assert html == '<p title="kept" lang="en">text</p><table><tbody><tr><td>cell</td></tr></tbody></table>'


def test_comments_and_embedding_tags_are_removed():
    html = sanitize(
        "<p>a<!-- hidden --></p><iframe src='https://example.org'></iframe><object data=x></object>"
        "<embed src=x><form action=/x><input name=q></form><style>p{}</style>"
    )
    assert html == "<p>a</p>"


def test_headings_lists_tables_code_and_quotes_are_kept():
    html = render_markdown(
        "# Title\n\n## Part\n\n- one\n- two\n\nThen:\n\n1. first\n2. second\n\n"
        "| a | b |\n|:--|--:|\n| 1 | 2 |\n\n> quoted\n\n```python\nx = '<b>'\n```\n\n"
        "**strong** *em* `code`\n\n---\n"
    )
    for fragment in (
        "<h1>Title</h1>",
        "<h2>Part</h2>",
        "<ul>\n<li>one</li>\n<li>two</li>\n</ul>",
        "<ol>\n<li>first</li>\n<li>second</li>\n</ol>",
        "<table>\n<thead>\n<tr>\n<th>a</th>\n<th>b</th>",  # alignment styles removed
        "<td>1</td>\n<td>2</td>",
        "<blockquote>\n<p>quoted</p>\n</blockquote>",
        "<pre><code>x = '&lt;b&gt;'\n</code></pre>",
        "<strong>strong</strong> <em>em</em> <code>code</code>",
        "<hr>",
    ):
        assert fragment in html, fragment


def test_links_are_kept_and_every_link_gets_rel_noopener_noreferrer():
    html = render_markdown(
        '[site](https://example.org "The site") [mail](mailto:a@example.org) [part](#part) [page](other.md)\n'
    )
    assert '<a href="https://example.org" title="The site" rel="noopener noreferrer">site</a>' in html
    assert '<a href="mailto:a@example.org" rel="noopener noreferrer">mail</a>' in html
    assert '<a href="#part" rel="noopener noreferrer">part</a>' in html
    assert '<a href="other.md" rel="noopener noreferrer">page</a>' in html  # relative: kept as written
    assert html.count('rel="noopener noreferrer"') == 4


def test_a_caller_may_rewrite_relative_urls_but_never_absolute_ones():
    html = render_markdown(
        "[a](other.md) [b](https://example.org/other.md) ![c](pic.png)\n",
        relative_url=lambda url: "/x/" + url,
    )
    assert 'href="/x/other.md"' in html and 'src="/x/pic.png"' in html
    assert 'href="https://example.org/other.md"' in html


def test_heading_links_and_footnotes_carry_only_their_own_ids_and_classes():
    html = render_markdown("## A heading\n\nSee[^n].\n\n[^n]: A note.\n", heading_links=True)
    assert '<h2 id="a-heading">A heading<a class="headerlink" href="#a-heading"' in html
    assert '<sup id="fnref:n"><a class="footnote-ref" href="#fn:n"' in html
    assert '<div class="footnote">' in html and '<li id="fn:n">' in html
    assert "<h2>A heading</h2>" in render_markdown("## A heading\n")  # no anchors unless asked


def test_a_numbered_list_may_keep_its_first_number():
    html = render_markdown("3. third\n4. fourth\n", extra_extensions=("sane_lists",))
    assert '<ol start="3">' in html


def test_lessons_and_briefs_share_the_policy():
    text = "## Part\n\n[x](javascript:alert(1)) [y](https://example.org) <img src=x onerror=alert(1)>\n"
    lesson, brief = render_lesson(text), render_brief(text)
    for html in (lesson, brief):
        assert active_content(html) == []
        assert '<a href="https://example.org" rel="noopener noreferrer">y</a>' in html
        assert '<a rel="noopener noreferrer">x</a>' in html
    assert "&lt;img" in lesson and "<img" not in lesson  # a lesson shows raw HTML as text ...
    assert '<img src="x">' in brief and "onerror" not in brief  # ... a brief keeps what the policy allows
    assert '<h2 id="part">' in lesson and "<h2>Part</h2>" in brief  # anchors for lessons only

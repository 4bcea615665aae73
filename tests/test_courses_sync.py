"""`sync` for courses/: created, updated, unchanged and retired per item; idempotent; sanitized rendering."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import UTC, datetime
from html.parser import HTMLParser

import sqlalchemy as sa

import lms.content
from lms import PROJECT_ROOT, clock
from lms.courses import operations
from lms.courses.loader import courses_kind, sync
from lms.courses.models import Lesson, LessonCompletion, Module, Track
from lms.courses.rendering import render_lesson
from lms.extensions import db
from tests.fixtures.courses.samples import (
    DEEP,
    FIRST,
    SECOND,
    check_tree,
    copy_valid_tree,
    edit,
    lesson_by_slug,
    sync_tree,
)
from tests.support import recorded_statements

WRITES = ("INSERT", "UPDATE", "DELETE")


def actions(changes) -> dict[tuple[str, str], str]:
    return {(change.kind, change.key): change.action for change in changes}


def track(slug: str) -> Track:
    return db.session.execute(sa.select(Track).where(Track.slug == slug)).scalar_one()


def test_first_sync_creates_every_track_module_and_lesson(app, tree):
    changes = sync_tree(tree)
    assert actions(changes) == {
        ("track", "alpha"): "created",
        ("track", "beta"): "created",
        ("module", "alpha/basics"): "created",
        ("module", "alpha/advanced"): "created",
        ("module", "beta/only"): "created",
        ("lesson", "alpha/first-steps"): "created",
        ("lesson", "alpha/second-steps"): "created",
        ("lesson", "alpha/deep-dive"): "created",
        ("lesson", "beta/solo"): "created",
    }
    alpha = track("alpha")
    assert (alpha.title, alpha.validity_months, alpha.unlock, alpha.program_weeks) == (
        "Alpha Track",
        12,
        "in_order",
        2,
    )
    assert alpha.completion == {"modules": "all", "quizzes": ["alpha-final"], "assignment": "alpha-brief"}
    assert [(m.slug, m.week, m.position) for m in alpha.modules] == [("basics", 1, 0), ("advanced", 2, 1)]
    second = lesson_by_slug(alpha, "second-steps")
    assert (second.title, second.minutes, second.position, second.module.slug) == (
        "Second steps",
        12,
        1,
        "basics",
    )
    # Rendered once, with the link to another module's lesson pointing at that lesson's page.
    assert '<a href="deep-dive#notes-that-work"' in second.body_html
    assert '<h2 id="notes-that-work">' in second.body_html


def test_a_second_sync_reports_everything_unchanged_and_writes_nothing(app, tree):
    sync_tree(tree)
    with recorded_statements() as statements:
        changes = sync_tree(tree)
    assert Counter(change.action for change in changes) == {"unchanged": 9}
    assert [s for s in statements if s.lstrip().upper().startswith(WRITES)] == []


def test_changed_files_update_only_their_items(app, tree):
    sync_tree(tree)
    clock.freeze(datetime(2030, 1, 2, 3, 4, tzinfo=UTC))
    edit(tree, SECOND, "## Notes that work", "## Notes that last")
    edit(tree, "alpha/track.toml", 'title = "Alpha Track"', 'title = "Alpha, revised"')
    version_before = track("alpha").content_version
    with recorded_statements() as statements:
        changes = sync_tree(tree)
    changed = {key: action for key, action in actions(changes).items() if action != "unchanged"}
    assert changed == {("track", "alpha"): "updated", ("lesson", "alpha/second-steps"): "updated"}
    updates = [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    content_updates = [s for s in updates if "content_version" not in s]
    assert sorted(s.split()[1] for s in content_updates) == ["lessons", "tracks"]
    # the track's content version is raised by the database (lms.courses.triggers), not by a statement of ours
    assert len(updates) == len(content_updates)
    assert track("alpha").content_version > version_before
    second = lesson_by_slug(track("alpha"), "second-steps")
    assert '<h2 id="notes-that-last">' in second.body_html
    assert second.updated_at == datetime(2030, 1, 2, 3, 4, tzinfo=UTC)
    assert track("alpha").title == "Alpha, revised"


def test_a_lesson_moved_to_another_module_is_updated(app, tree):
    sync_tree(tree)
    (tree / SECOND).rename(tree / "alpha/advanced/second-steps.md")
    edit(tree, "alpha/advanced/second-steps.md", "order = 2", "order = 2")  # same order, new module
    edit(tree, "alpha/advanced/second-steps.md", "(../advanced/deep-dive.md#notes-that-work)",
         "(deep-dive.md#notes-that-work)")  # fmt: skip
    edit(tree, FIRST, "(second-steps.md)", "(../advanced/second-steps.md)")
    changes = actions(sync_tree(tree))
    assert changes[("lesson", "alpha/second-steps")] == "updated"
    assert lesson_by_slug(track("alpha"), "second-steps").module.slug == "advanced"


def test_a_removed_lesson_is_retired_and_its_progress_kept(app, tree, student, make_user):
    sync_tree(tree)
    alpha = track("alpha")
    first = lesson_by_slug(alpha, "first-steps")
    operations.enroll(student, alpha)
    operations.complete_lesson(student, first)
    other = make_user()
    operations.enroll(other, alpha)

    (tree / FIRST).unlink()
    edit(tree, DEEP, "(../basics/first-steps.md)", "(../basics/second-steps.md)")
    changes = actions(sync_tree(tree))
    assert changes[("lesson", "alpha/first-steps")] == "retired"
    assert changes[("lesson", "alpha/deep-dive")] == "updated"

    db.session.expire_all()
    first = db.session.get(Lesson, first.id)
    assert first is not None and first.retired_at is not None  # kept, never deleted
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LessonCompletion)) == 1
    # Progress counts live lessons only; the student who completed it still sees it, the other does not.
    assert operations.track_progress(student.id, alpha.id).total == 2
    assert operations.track_outline(student, alpha).find("first-steps") is not None
    assert operations.track_outline(other, alpha).find("first-steps") is None

    # A later sync with the file back brings it back.
    shutil.copy(copy_valid_tree(tree.parent / "again") / FIRST, tree / FIRST)
    changes = actions(sync_tree(tree))
    assert changes[("lesson", "alpha/first-steps")] == "updated"
    db.session.expire_all()
    assert db.session.get(Lesson, first.id).retired_at is None
    progress = operations.track_progress(student.id, alpha.id)
    assert (progress.done, progress.total) == (1, 3)


def test_a_removed_track_or_module_is_retired_with_its_lessons(app, tree):
    sync_tree(tree)
    shutil.rmtree(tree / "beta")
    text = (tree / "alpha/track.toml").read_text()
    start = text.index('[[modules]]\nslug = "advanced"')
    (tree / "alpha/track.toml").write_text(text[:start] + text[text.index("[assignment]") :])
    shutil.rmtree(tree / "alpha/advanced")
    edit(tree, SECOND, "(../advanced/deep-dive.md#notes-that-work)", "(first-steps.md)")
    changes = {key: action for key, action in actions(sync_tree(tree)).items() if action != "unchanged"}
    assert changes == {
        ("track", "beta"): "retired",
        ("module", "alpha/advanced"): "retired",
        ("module", "beta/only"): "retired",
        ("lesson", "alpha/deep-dive"): "retired",
        ("lesson", "beta/solo"): "retired",
        ("lesson", "alpha/second-steps"): "updated",
    }
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Module).where(Module.retired_at.is_not(None))
        )
        == 2
    )
    # Retired items are not reported again.
    assert set(actions(sync_tree(tree)).values()) == {"unchanged"}


def test_the_sync_command_loads_and_reports(app, tree, monkeypatch):
    monkeypatch.setattr(lms.content, "CONTENT_KINDS", [courses_kind()])  # this feature's kind alone
    app.config["COURSES_DIR"] = str(tree)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["lms", "sync-content"])
    assert result.exit_code == 0, result.output
    assert "created   lesson     alpha/first-steps" in result.output
    assert "Content synced: 9 created, 0 updated, 0 unchanged, 0 retired." in result.output
    result = runner.invoke(args=["lms", "sync-content", "--quiet"])
    assert result.output.strip() == "Content synced: 0 created, 0 updated, 9 unchanged, 0 retired."


def test_a_failing_check_writes_nothing_and_names_file_and_line(app, tree, monkeypatch):
    monkeypatch.setattr(lms.content, "CONTENT_KINDS", [courses_kind()])
    app.config["COURSES_DIR"] = str(tree)
    edit(tree, FIRST, "(second-steps.md)", "(gone.md)")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["lms", "check-content"])
    assert result.exit_code != 0
    assert (
        "courses/alpha/basics/first-steps.md:" in result.output
        and 'broken link to "gone.md"' in result.output
    )
    result = runner.invoke(args=["lms", "sync-content"])
    assert result.exit_code != 0 and "nothing was written" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Track)) == 0


def test_the_real_content_loads(app):
    content = check_tree(PROJECT_ROOT / "courses")
    changes = sync(content)
    db.session.commit()
    counts = Counter(change.kind for change in changes)
    assert counts["track"] == 2 and counts["module"] >= 12 and counts["lesson"] >= 24
    assert {change.action for change in changes} == {"created"}
    lesson = lesson_by_slug(track("social-media-strategist"), "marketing-or-conversation")
    assert '<a href="social-across-the-organization"' in lesson.body_html
    assert "<table>" in lesson.body_html


HOSTILE = """Intro <script>alert("script")</script> text.

<img src="x" onerror="alert('onerror')">

<div onmouseover="alert('div')">raw block</div>

[click me](javascript:alert('link')) and [again](JaVaScRiPt:alert(1)) and [data](data:text/html,<b>x</b>)

[ok](https://example.org) [mail](mailto:someone@example.org) [other lesson](../m/other-one.md#part)
"""


class ActiveContent(HTMLParser):
    """Collects what a browser would run: script-like tags, event handler attributes, script URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "iframe", "object", "embed", "style", "img", "div", "svg"}:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            url = (value or "").strip().lower()
            if name.startswith("on") or (
                name in {"href", "src"} and url.startswith(("javascript:", "data:"))
            ):
                self.found.append(f"{tag} {name}={value}")


def active_content(html: str) -> list[str]:
    parser = ActiveContent()
    parser.feed(html)
    return parser.found


def test_rendering_neutralises_script_event_handlers_and_javascript_links():
    html = render_lesson(HOSTILE)
    assert active_content(html) == []
    assert "&lt;script&gt;" in html  # raw HTML is shown as text, not run
    assert '<a href="https://example.org"' in html and '<a href="mailto:someone@example.org"' in html
    assert '<a href="other-one#part"' in html


def test_markdown_features_survive_sanitizing():
    html = render_lesson(
        "## A heading\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```python\nx = '<b>'\n```\n\nSee[^n].\n\n[^n]: A note.\n"
    )
    assert '<h2 id="a-heading">' in html and 'class="headerlink" href="#a-heading"' in html
    assert "<table>" in html and "<td>1</td>" in html
    assert "<pre><code>x = '&lt;b&gt;'" in html
    assert '<sup id="fnref:n"><a class="footnote-ref" href="#fn:n"' in html and '<li id="fn:n">' in html


def test_hostile_markdown_is_stored_and_served_inert(app, tree, client, login, instructor):
    path = tree / "beta/only/solo.md"
    path.write_text(path.read_text().replace("## Practice", HOSTILE + "\n## Practice"))
    content = check_tree(tree)
    assert content.problems, "check-content flags raw HTML and javascript: links"
    sync(content)  # even if it were loaded anyway, nothing active would reach the page
    db.session.commit()
    login(client, instructor)
    response = client.get("/tracks/beta/lessons/solo")
    assert response.status_code == 200
    lesson = response.get_data(as_text=True).split('<div class="prose">', 1)[1].split("</article>", 1)[0]
    assert "alert(&#34;script&#34;)" in lesson or 'alert("script")' in lesson  # the text is there ...
    assert [item for item in active_content(lesson) if item != "<div>"] == []  # ... and inert

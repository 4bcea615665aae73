"""Tracks, modules and lessons from courses/, enrolment and progress."""

from __future__ import annotations

from typing import Any

from flask import Flask

from lms.accounts.models import User


def register(app: Flask) -> None:
    """Add this feature's blueprint, content loader, dashboard panel and commands to the app."""
    from lms.content import register_content_kind
    from lms.courses.lesson_pages import LESSON_PAGES_KEPT
    from lms.courses.loader import courses_kind
    from lms.courses.snapshot import install_content_cache
    from lms.courses.views import bp
    from lms.dashboard import Panel, register_panel
    from lms.navigation import NavItem, add_nav_item
    from lms.page_cache import install_page_cache

    app.register_blueprint(bp)
    install_content_cache(app)
    install_page_cache(app, "lessons", LESSON_PAGES_KEPT)
    register_content_kind(courses_kind())
    register_panel(Panel("courses", "courses/_dashboard_panel.html", dashboard_panel, order=10))
    add_nav_item(NavItem("Tracks", "courses.catalog_page", None), position=0)


def dashboard_panel(user: User) -> dict[str, Any] | None:
    """Each enrolled track with its progress and where to continue; students without one are pointed to the
    catalog, staff without one see nothing."""
    from lms.courses.operations import dashboard_outlines, is_staff

    items = [
        {
            "enrollment": enrollment,
            "outline": outline,
            "continue": outline.continue_lesson(enrollment.last_lesson_id),
        }
        for enrollment, outline in dashboard_outlines(user)
    ]
    if not items and is_staff(user):
        return None
    return {"items": items}

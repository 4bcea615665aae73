"""Tracks, modules and lessons from courses/, enrolment and progress."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    """Add this feature's blueprint, content loader, dashboard panel and commands to the app."""
    # Imported here, not at the top (an inherent cycle): other features' models import lms.courses.models, which
    # runs this package first, and the views import those features' operations, which import those models back.
    from lms.content import register_content_kind
    from lms.courses.lesson_views import LESSON_PAGES_KEPT
    from lms.courses.loader import courses_kind
    from lms.courses.queries import dashboard_panel
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

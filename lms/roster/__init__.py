"""Bulk enrolment: an admin uploads a CSV of people and tracks, previews every row's outcome, and applies it in
one transaction (accounts invited, enrolments and cohorts made)."""

from __future__ import annotations

from flask import Flask

from lms.accounts.models import Role


def register(app: Flask) -> None:
    """Add the admin pages and their menu entry."""
    from lms.navigation import NavItem, add_nav_item
    from lms.roster.views import bp

    app.register_blueprint(bp)
    add_nav_item(NavItem("Import enrolments", "roster.upload", frozenset({Role.ADMIN})))

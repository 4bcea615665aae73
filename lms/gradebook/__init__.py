"""The instructor gradebook: each track's cohort with progress, quiz standings, the handbook and certificates."""

from __future__ import annotations

from flask import Flask

from lms.accounts.models import Role


def register(app: Flask) -> None:
    """Add this feature's blueprint and its menu entry (instructors and admins)."""
    # Imported at registration, not at the top: the views import this package's modules back (the package would be
    # half-imported), and importing any gradebook module must not load the blueprint and every feature it reads.
    from lms.gradebook.views import bp
    from lms.navigation import NavItem, add_nav_item

    app.register_blueprint(bp)
    add_nav_item(NavItem("Gradebook", "gradebook.index", frozenset({Role.INSTRUCTOR, Role.ADMIN})))

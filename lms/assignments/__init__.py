"""The handbook assignment: uploads, storage, rubric grading, feedback and regrades."""

from __future__ import annotations

from typing import Any

from flask import Flask

from lms.accounts.models import Role, User


def register(app: Flask) -> None:
    """Add this feature's blueprint, content loader, dashboard panel, menu entry and template filters."""
    from lms.assignments import bulk_views, desk_views, loader, operations  # noqa: F401 (their routes join bp)
    from lms.assignments.views import bp
    from lms.content import register_content_kind
    from lms.dashboard import Panel, register_panel
    from lms.navigation import NavItem, add_nav_item

    app.register_blueprint(bp)
    register_content_kind(loader.content_kind())
    register_panel(Panel("assignments", "assignments/_panel.html", _panel, order=40))
    add_nav_item(NavItem("Grading", "assignments.queue", frozenset({Role.INSTRUCTOR, Role.ADMIN})))
    app.add_template_filter(operations.describe_duration, "duration")


def _panel(user: User) -> dict[str, Any] | None:
    from lms.assignments import operations

    if user.is_staff:
        return {"staff": True, "waiting": operations.waiting_count()}
    overview = operations.student_overview(user)
    return {"staff": False, "items": overview} if overview else None


def has_passed_assignment(user_id: int, track_id: int) -> bool:
    """For certificates: has this student passed the track's assignment (a released passing grade)?"""
    from lms.assignments.operations import has_passed_assignment as passed

    return passed(user_id, track_id)

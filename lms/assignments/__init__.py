"""The handbook assignment: uploads, storage, rubric grading, feedback and regrades."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Flask

from lms.accounts.models import Role, User


def register(app: Flask) -> None:
    """Add this feature's blueprint, content loader, dashboard panel, menu entry, template filters and commands,
    and sweep the unfinished uploads an earlier process left behind."""
    from lms.assignments import (  # noqa: F401 (their routes join bp)
        bulk_views,
        cli,
        desk_views,
        exemplars,
        loader,
        marking_views,
        operations,
    )
    from lms.assignments.views import bp
    from lms.cli import lms_cli
    from lms.clock import now_utc
    from lms.content import register_content_kind
    from lms.dashboard import Panel, register_panel
    from lms.jobs import register_periodic
    from lms.navigation import NavItem, add_nav_item

    app.register_blueprint(bp)
    register_content_kind(loader.content_kind())
    register_content_kind(
        exemplars.content_kind()
    )  # after the assignments: exemplars are checked against them
    register_panel(Panel("assignments", "assignments/_panel.html", _panel, order=40))
    add_nav_item(NavItem("Grading", "assignments.queue", frozenset({Role.INSTRUCTOR, Role.ADMIN})))
    app.add_template_filter(operations.describe_duration, "duration")
    for command in (cli.check_storage_command, cli.prune_drafts_command, cli.sweep_uploads_command):
        lms_cli.add_command(command)
    # The worker (or the dev server's job thread) keeps storage tidy: drafts replaced long ago lose their files
    # (rows kept), and unfinished uploads a dead process left behind go.
    register_periodic(
        "assignments.prune_drafts", timedelta(days=1), lambda: operations.prune_replaced_drafts(now_utc())
    )
    register_periodic(
        "assignments.sweep_uploads", timedelta(hours=1), lambda: operations.sweep_temporary_uploads(now_utc())
    )
    _sweep_at_start(app)


def _sweep_at_start(app: Flask) -> None:
    """Unfinished uploads from a process that died (kill -9, a crash) go at start-up; a disk problem must not
    stop the app from starting, so it is logged instead."""
    from lms.assignments import operations
    from lms.clock import now_utc

    with app.app_context():
        try:
            removed = operations.sweep_temporary_uploads(now_utc())
        except OSError:
            app.logger.warning("could not sweep the temporary upload files", exc_info=True)
            return
    if removed:
        app.logger.info("removed %d unfinished upload file(s) left by an earlier process", removed)


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

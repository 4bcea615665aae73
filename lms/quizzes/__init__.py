"""Timed quizzes from quizzes/: attempts, deadlines, autosave, scoring, item analysis."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from lms.accounts.models import Role, User


def _dashboard_panel(user: User) -> dict[str, Any] | None:
    from lms.quizzes.operations import quizzes_for_student

    statuses = quizzes_for_student(user.id)
    return {"quizzes": statuses} if statuses else None


@click.command("finalize-overdue")
@with_appcontext
def finalize_overdue_command() -> None:
    """Submit every quiz attempt whose time has run out, with its saved answers (the worker does it every minute;
    this runs it now)."""
    from lms.quizzes.operations import finalize_overdue

    count = finalize_overdue()
    click.echo(f"Finalized {count} overdue attempt{'s' if count != 1 else ''}.")


@click.command("item-report")
@click.option("--quiz", "quiz_slug", default=None, help="One quiz's slug (default: every live quiz).")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
    help="Write the CSV to this file (default: print it).",
)  # fmt: skip
@click.option(
    "--rebuild", is_flag=True, help="First recompute the kept item sums from the attempts (after upgrading)."
)
@with_appcontext
def item_report_command(quiz_slug: str | None, output: str | None, rebuild: bool) -> None:
    """Item statistics of each quiz's current version as CSV: responses, facility, discrimination, and the flags
    of the analysis page (too few responses, too easy, too hard, not discriminating) with their reasons."""
    from lms.csv_export import render_csv
    from lms.errors import DomainError
    from lms.quizzes.operations import finalize_overdue, item_report_rows

    finalize_overdue()
    try:
        if rebuild:
            from lms.quizzes.operations import rebuild_item_counts

            for slug, number, counted in rebuild_item_counts(quiz_slug):
                click.echo(f"Rebuilt {slug} version {number}: {counted} attempt(s).", err=True)
        rows = item_report_rows(quiz_slug)
    except DomainError as error:
        raise click.ClickException(error.message) from error
    text = render_csv(rows)
    if output is None:
        click.echo(text, nl=False)
        return
    with open(output, "w", encoding="utf-8", newline="") as file:
        file.write(text)
    flagged = sum(1 for row in rows[1:] if row[8])
    click.echo(f"Wrote {len(rows) - 1} item(s), {flagged} flagged, to {output}.")


def register(app: Flask) -> None:
    """Add this feature's blueprint, content loader, dashboard panel and commands to the app."""
    from lms.cli import lms_cli
    from lms.content import register_content_kind
    from lms.dashboard import Panel, register_panel
    from lms.jobs import register_periodic
    from lms.navigation import NavItem, add_nav_item
    from lms.page_cache import install_page_cache
    from lms.quizzes.loader import QUIZZES
    from lms.quizzes.operations import ATTEMPTS_KEPT, finalize_overdue, format_points
    from lms.quizzes.views import bp

    app.register_blueprint(bp)
    install_page_cache(app, "attempts", ATTEMPTS_KEPT)
    app.add_template_filter(format_points, "quiz_points")
    register_content_kind(QUIZZES)
    register_panel(Panel("quizzes", "quizzes/_dashboard_panel.html", _dashboard_panel, order=20))
    add_nav_item(NavItem("Quizzes", "quizzes.staff_quizzes", frozenset({Role.INSTRUCTOR, Role.ADMIN})))
    add_nav_item(
        NavItem("Accommodations", "quizzes.staff_accommodations", frozenset({Role.INSTRUCTOR, Role.ADMIN}))
    )
    lms_cli.add_command(finalize_overdue_command)
    lms_cli.add_command(item_report_command)
    from lms.quizzes.importing.commands import export_questions_command, import_questions_command

    lms_cli.add_command(import_questions_command)
    lms_cli.add_command(export_questions_command)
    register_periodic("quizzes.finalize_overdue", timedelta(minutes=1), finalize_overdue)

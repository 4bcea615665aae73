"""`lms check-storage [--fix]`, `lms prune-drafts` and `lms sweep-uploads`: keeping UPLOAD_DIR in step, by hand
or from a scheduler (the operations behind them are the ones a periodic job calls)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from lms.assignments import operations
from lms.clock import now_utc


@click.command("check-storage")
@click.option(
    "--fix", is_flag=True, help="Move stored files no row names to quarantine/ in the upload folder."
)
@with_appcontext
def check_storage_command(fix: bool) -> None:
    """Report stored files without a database row, and rows without their file (exit status 1 when any)."""
    report = operations.check_storage(fix=fix, now=now_utc())
    for path in report.files_without_row:
        click.echo(f"file without a row: {path}")
    for label in report.rows_without_file:
        click.echo(f"row without its file: {label}")
    for path in report.quarantined:
        click.echo(f"quarantined: {path}")
    if report.recent_skipped:
        click.echo(f"{report.recent_skipped} recent file(s) not judged: an upload may still be finishing.")
    if report.clean:
        click.echo("Storage is in step with the database.")
        return
    summary = (
        f"{len(report.files_without_row)} file(s) without a row, "
        f"{len(report.rows_without_file)} row(s) without a file"
    )
    if fix and not report.rows_without_file:
        click.echo(f"{summary}; the files are in quarantine/.")
        return
    raise click.ClickException(summary + ("" if fix else "; run with --fix to quarantine the files") + ".")


@click.command("prune-drafts")
@with_appcontext
def prune_drafts_command() -> None:
    """Remove the files of drafts replaced more than LMS_DRAFT_RETENTION_DAYS ago and never handed in."""
    click.echo(f"Pruned {operations.prune_replaced_drafts(now_utc())} replaced draft(s).")


@click.command("sweep-uploads")
@with_appcontext
def sweep_uploads_command() -> None:
    """Remove unfinished upload files older than LMS_TEMPORARY_UPLOAD_MAX_AGE_MINUTES."""
    click.echo(f"Removed {operations.sweep_temporary_uploads(now_utc())} temporary file(s).")

"""enrollments.lessons_done (kept count of live lessons completed, indexed with the track) and, on PostgreSQL,
trigram indexes for the name and email searches

Revision ID: c21e00000001
Revises: c21a00000001
Create Date: 2026-12-06 03:30:00

The gradebook sorted by progress reads the kept count through (track_id, lessons_done) instead of grouping every
completion of the track; the backfill counts it the way lms.courses.progress.recount_lessons_done does.

The gradebook's and the admins' user searches (LIKE '%...%' on email and on lower(full_name)) use two GIN indexes
of pg_trgm on PostgreSQL. The extension is created in pg_catalog, so every search_path sees its operator classes;
if it cannot be created (no permission, not on the server), the indexes are skipped with a note and the searches
work as before, reading the users table. SQLite is unchanged (it has no such index).
"""

import logging

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c21e00000001"
down_revision = "c21a00000001"
branch_labels = None
depends_on = None

BACKFILL = """
UPDATE enrollments SET lessons_done = (
    SELECT count(lesson_completions.id)
    FROM lesson_completions
    JOIN lessons ON lessons.id = lesson_completions.lesson_id
    JOIN modules ON modules.id = lessons.module_id
    WHERE lesson_completions.user_id = enrollments.user_id
      AND lessons.track_id = enrollments.track_id
      AND lessons.retired_at IS NULL
      AND modules.retired_at IS NULL
)
"""
TRIGRAM_INDEXES = {"ix_users_email_trgm": "email", "ix_users_name_trgm": "lower(full_name)"}


def _installed_in(bind):
    return bind.execute(
        sa.text("SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'")
    ).scalar()


def _trigram_schema(bind):
    """The schema pg_trgm lives in, created when it is not there yet; None when it cannot be."""
    found = _installed_in(bind)
    if found is not None:
        return found
    # pg_catalog first (every search_path sees it); a database owner who is not a superuser may only create it in
    # a schema of their own: the current one, which the app's search_path has too.
    for statement in (
        "CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA pg_catalog",
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    ):
        try:
            with bind.begin_nested():
                bind.execute(sa.text(statement))
        except sa.exc.DBAPIError as error:
            failure = type(error.orig).__name__
            continue
        return _installed_in(bind)
    logging.getLogger("alembic.runtime.migration").warning(
        "c21e00000001: pg_trgm could not be created (%s): the name and email searches keep reading the users "
        "table, without trigram indexes",
        failure,
    )
    return None


def upgrade():
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lessons_done", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index("ix_enrollments_track_lessons_done", ["track_id", "lessons_done"], unique=False)
    op.execute(BACKFILL)

    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        schema = _trigram_schema(bind)
        if schema is not None:
            for name, expression in TRIGRAM_INDEXES.items():
                op.execute(f'CREATE INDEX {name} ON users USING gin ({expression} "{schema}".gin_trgm_ops)')


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for name in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")  # the extension stays: other schemas may use it
    with op.batch_alter_table("enrollments", schema=None) as batch_op:
        batch_op.drop_index("ix_enrollments_track_lessons_done")
        batch_op.drop_column("lessons_done")

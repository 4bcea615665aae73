"""Database triggers that raise Track.content_version whenever a module or lesson row changes, whoever changes it.

The flush hook in lms.courses.models raises the version for changes made through the ORM (and keeps the session's
Track objects in step). These triggers make it hold for every other writer too: a raw SQL UPDATE, a data
migration, a fix typed into psql, and a row moved to another track (both the old and the new track's versions go
up). Each process keeps a track's content in memory under its version (lms.courses.snapshot), and every host reads
the version from the track row at each request, so a change made anywhere reaches every host at its next request.

The same SQL is installed by `db.create_all()` (the metadata hook below: tests and benchmarks) and by the migration
c21a00000001 (which keeps its own frozen copy). On SQLite, a batch migration that rebuilds `modules` or `lessons`
drops their triggers: such a migration must install them again (tests/test_content_triggers.py checks the
migrated schema has them).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

TABLES = ("modules", "lessons")
FUNCTION = "lms_bump_track_content_version"

_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE tracks SET content_version = content_version + 1 WHERE id = NEW.track_id;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE tracks SET content_version = content_version + 1 WHERE id = OLD.track_id;
    ELSE
        UPDATE tracks SET content_version = content_version + 1 WHERE id IN (OLD.track_id, NEW.track_id);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""  # noqa: S608  (the names are our own constants)


def _pg_trigger(table: str) -> list[str]:
    name = f"{table}_bump_track_content_version"
    return [
        f"DROP TRIGGER IF EXISTS {name} ON {table}",
        f"DROP TRIGGER IF EXISTS {name}_update ON {table}",
        # An UPDATE that changes nothing leaves the version (and every host's kept pages) alone.
        f"CREATE TRIGGER {name}_update AFTER UPDATE ON {table} FOR EACH ROW "
        f"WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE PROCEDURE {FUNCTION}()",
        f"CREATE TRIGGER {name} AFTER INSERT OR DELETE ON {table} FOR EACH ROW EXECUTE PROCEDURE {FUNCTION}()",
    ]


def _sqlite_triggers(table: str) -> list[str]:
    bump = "UPDATE tracks SET content_version = content_version + 1 WHERE id IN"
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_bump_track_content_version_insert AFTER INSERT ON {table} "
        f"BEGIN {bump} (NEW.track_id); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_bump_track_content_version_update AFTER UPDATE ON {table} "
        f"BEGIN {bump} (OLD.track_id, NEW.track_id); END",
        f"CREATE TRIGGER IF NOT EXISTS {table}_bump_track_content_version_delete AFTER DELETE ON {table} "
        f"BEGIN {bump} (OLD.track_id); END",
    ]


def install_statements(dialect: str) -> list[str]:
    if dialect == "postgresql":
        statements = [_PG_FUNCTION]
        for table in TABLES:
            statements += _pg_trigger(table)
        return statements
    if dialect == "sqlite":
        return [s for table in TABLES for s in _sqlite_triggers(table)]
    raise NotImplementedError(f"no content-version triggers for {dialect}")


def trigger_names(connection: sa.Connection) -> set[str]:
    """The content-version triggers the connected database has (for tests and checks)."""
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            sa.text(
                "SELECT tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal AND c.relname IN ('modules', 'lessons') "
                "AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
            )
        )
    else:
        rows = connection.execute(
            sa.text(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('modules', 'lessons')"
            )
        )
    return {row[0] for row in rows if "bump_track_content_version" in row[0]}


def install(connection: sa.Connection) -> None:
    for statement in install_statements(connection.dialect.name):
        connection.exec_driver_sql(statement)


def _after_create(_target: Any, connection: sa.Connection, **_kw: Any) -> None:
    tables = set(sa.inspect(connection).get_table_names())
    if {"tracks", *TABLES} <= tables:
        install(connection)


def listen(metadata: sa.MetaData) -> None:
    """Install the triggers whenever `metadata.create_all()` builds the schema."""
    if not sa.event.contains(metadata, "after_create", _after_create):
        sa.event.listen(metadata, "after_create", _after_create)

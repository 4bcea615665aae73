"""Table stamps: one counter per table, raised by the database in every transaction that changes the table.

A page kept rendered (lms.accounts.kept_pages) remembers the stamps of the tables it read; it is served again only while
those stamps are unchanged. The counters live in one row of `table_stamps` (a JSON object from table name to
counter, and an `epoch` drawn at random when the row is made, so that counters that start again from nothing never
match a page kept before). Database triggers raise them, so no writer can miss one: the ORM, raw SQL, a data
migration, a fix typed into psql, a job on another host.

- PostgreSQL: a deferred constraint trigger on each row change runs at COMMIT, once per table and transaction (a
  transaction-local setting remembers the tables already counted). The stamp row's lock is taken last, at commit, and
  is the only lock taken then, so two writers can never deadlock on it, and each holds it only while its commit is
  written. A TRUNCATE raises the stamp at once.
- SQLite: a trigger on each row change (one writer at a time, so there is no lock to order).

A table not yet named in the row counts 0. The stamp changes in the same transaction as the rows, and becomes visible with them: a reader that reads the
stamps first and the rows after can see rows newer than its stamps (its page is then only kept under stamps
that have already passed), never older.

Tables written at every request or every few seconds, which no kept page may read, carry no trigger
(UNSTAMPED_TABLES): a page that reads one of them is never kept (lms.accounts.kept_pages). A table added later has no
trigger until a migration installs one (`install` takes the table names), and until then pages that read it are
not kept either (lms.accounts.kept_pages keeps pages only of the tables `stamped_tables` names; tests/test_kept_pages.py
checks that the migrated schema has a trigger on each of them).

The same SQL is installed by `db.create_all()` (the metadata hook below: tests and benchmarks) and by the
migration c23a00000001 (which keeps its own frozen copy). On SQLite, a batch migration that rebuilds a table drops
its triggers: such a migration must install them again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

STAMPS_TABLE = "table_stamps"
FUNCTION = "lms_raise_table_stamp"
TRIGGER_SUFFIX = "_raise_table_stamp"

# Written at nearly every request or by the job runner every few seconds; no kept page reads them.
UNSTAMPED_TABLES = frozenset(
    {
        STAMPS_TABLE,
        "user_sessions",  # every signed-in request notes the visit
        "quiz_answer_saves",  # every autosave
        "api_requests",  # every API call
        "audit_events",  # every sign-in, failed or not
        "jobs",
        "webhook_deliveries",
        "webhook_attempts",
    }
)

stamps_table = sa.Table(
    STAMPS_TABLE,
    sa.MetaData(),  # attached to the app's metadata by listen()
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("epoch", sa.String(32), nullable=False),
    sa.Column("versions", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
)


@dataclass(frozen=True, slots=True)
class Stamps:
    """The stamps as one statement read them: the row's epoch and each stamped table's counter."""

    epoch: str
    versions: dict[str, int]

    @classmethod
    def of(cls, epoch: str | None, versions: Any) -> Stamps:
        """From the row's columns as read. Before the row is made (nothing written yet) every table's counter
        is 0 under an epoch of its own, which no row ever has."""
        if epoch is None or not isinstance(versions, dict):
            return cls("", {})
        return cls(epoch, versions)

    def of_table(self, table: str) -> int:
        """A table's counter: 0 until its first change since the row was made."""
        return int(self.versions.get(table, 0))


def stamp_columns() -> tuple[sa.ScalarSelect[Any], sa.ScalarSelect[Any]]:
    """The stamps as two columns of another statement (the epoch, the counters), read in its one round trip."""
    row = stamps_table.c
    return (
        sa.select(row.epoch).where(row.id == 1).scalar_subquery().label("stamps_epoch"),
        sa.select(row.versions).where(row.id == 1).scalar_subquery().label("stamps_versions"),
    )


def read_stamps(connection: sa.Connection) -> Stamps:
    row = connection.execute(sa.select(*stamp_columns())).one()
    return Stamps.of(row[0], row[1])


# --- the triggers ------------------------------------------------------------------------------------------------

_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
BEGIN
    IF current_setting('lms_stamped.' || TG_TABLE_NAME, true) = '1' THEN
        RETURN NULL;
    END IF;
    INSERT INTO {STAMPS_TABLE} AS s (id, epoch, versions)
    VALUES (1, md5(random()::text || clock_timestamp()::text), jsonb_build_object(TG_TABLE_NAME, 1))
    ON CONFLICT (id) DO UPDATE SET versions = jsonb_set(
        s.versions, ARRAY[TG_TABLE_NAME], to_jsonb(COALESCE((s.versions ->> TG_TABLE_NAME)::bigint, 0) + 1)
    );
    IF TG_LEVEL = 'ROW' THEN
        PERFORM set_config('lms_stamped.' || TG_TABLE_NAME, '1', true);
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql
"""  # noqa: S608  (the names are our own constants)


def _pg_triggers(table: str) -> list[str]:
    name = f"{table}{TRIGGER_SUFFIX}"
    return [
        f'DROP TRIGGER IF EXISTS {name} ON "{table}"',
        f'DROP TRIGGER IF EXISTS {name}_update ON "{table}"',
        f'DROP TRIGGER IF EXISTS {name}_truncate ON "{table}"',
        # An UPDATE that changes nothing leaves the stamp (and every kept page) alone. Compared as text: a json
        # column has no equality operator.
        f'CREATE CONSTRAINT TRIGGER {name}_update AFTER UPDATE ON "{table}" DEFERRABLE INITIALLY DEFERRED '
        f"FOR EACH ROW WHEN (ROW(OLD.*)::text IS DISTINCT FROM ROW(NEW.*)::text) EXECUTE FUNCTION {FUNCTION}()",
        f'CREATE CONSTRAINT TRIGGER {name} AFTER INSERT OR DELETE ON "{table}" DEFERRABLE INITIALLY DEFERRED '
        f"FOR EACH ROW EXECUTE FUNCTION {FUNCTION}()",
        f'CREATE TRIGGER {name}_truncate AFTER TRUNCATE ON "{table}" FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()',
    ]


def _sqlite_triggers(table: str) -> list[str]:
    raise_stamp = (
        f"INSERT INTO {STAMPS_TABLE} (id, epoch, versions) "  # noqa: S608  (our own table names)
        f"VALUES (1, hex(randomblob(16)), json_object('{table}', 1)) "
        f"ON CONFLICT (id) DO UPDATE SET versions = "
        f"json_set(versions, '$.{table}', coalesce(json_extract(versions, '$.{table}'), 0) + 1);"
    )
    return [
        f'CREATE TRIGGER IF NOT EXISTS {table}{TRIGGER_SUFFIX}_{event} AFTER {event.upper()} ON "{table}" '
        f"BEGIN {raise_stamp} END"
        for event in ("insert", "update", "delete")
    ]


def stamped_tables(all_tables: Iterable[str]) -> list[str]:
    return sorted(set(all_tables) - UNSTAMPED_TABLES)


def install_statements(dialect: str, tables: Iterable[str]) -> list[str]:
    """The SQL that makes each of `tables` raise its stamp."""
    names = sorted(tables)
    if dialect == "postgresql":
        statements = [_PG_FUNCTION]
        for table in names:
            statements += _pg_triggers(table)
    elif dialect == "sqlite":
        statements = [s for table in names for s in _sqlite_triggers(table)]
    else:
        raise NotImplementedError(f"no table stamps for {dialect}")
    return statements


def install(connection: sa.Connection, tables: Iterable[str]) -> None:
    for statement in install_statements(connection.dialect.name, tables):
        connection.exec_driver_sql(statement)


def tables_with_triggers(connection: sa.Connection) -> set[str]:
    """The tables whose stamp triggers the connected database has (for tests and checks)."""
    if connection.dialect.name == "postgresql":
        rows = connection.execute(
            sa.text(
                "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE NOT t.tgisinternal "
                "AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
            )
        )
        wanted = {"": 0, "_update": 0, "_truncate": 0}
    else:
        rows = connection.execute(sa.text("SELECT tbl_name, name FROM sqlite_master WHERE type = 'trigger'"))
        wanted = {"_insert": 0, "_update": 0, "_delete": 0}
    found: dict[str, set[str]] = {}
    for table, name in rows:
        for suffix in wanted:
            if name == f"{table}{TRIGGER_SUFFIX}{suffix}":
                found.setdefault(table, set()).add(suffix)
    return {table for table, suffixes in found.items() if suffixes == set(wanted)}


def _after_create(target: sa.MetaData, connection: sa.Connection, **_kw: Any) -> None:
    tables = set(sa.inspect(connection).get_table_names())
    if STAMPS_TABLE in tables:
        install(connection, stamped_tables(name for name in target.tables if name in tables))


def listen(metadata: sa.MetaData) -> None:
    """Put the stamps table in `metadata`, and install the triggers whenever `metadata.create_all()` builds the
    schema."""
    if STAMPS_TABLE not in metadata.tables:
        stamps_table.to_metadata(metadata)
    if not sa.event.contains(metadata, "after_create", _after_create):
        sa.event.listen(metadata, "after_create", _after_create)

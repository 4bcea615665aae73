"""Table stamps: one counter per table, raised by the database in every transaction that changes the table.

A page kept rendered (lms.accounts.kept_pages) remembers the stamps of the tables it read; it is served again only
while those stamps are unchanged. The counters live in the rows of `table_stamps`: each row a JSON object from
table name to counter, and an `epoch` drawn at random when the row is made. A table's stamp is the sum of its
counters over the rows, and the rows' epoch is their number and the sum of their epochs, so that rows deleted or
made again never give an epoch a page was kept under. Database triggers raise the counters, so no writer can miss
one: the ORM, raw SQL, a data migration, a fix typed into psql, a job on another host.

- PostgreSQL: a deferred constraint trigger on each row change runs at COMMIT, once per table and transaction (a
  transaction-local setting remembers the tables already counted), on one of SLOTS rows chosen by the transaction's
  id. A transaction locks that one row only, last, at commit: two writers can never deadlock on the stamps, each
  holds its row only while its commit is written, and writers on other rows commit in parallel. A TRUNCATE raises
  the stamp at once.
- SQLite: a trigger on each row change, on one row (one writer at a time, so there is no lock to order).

A table not yet named in any row counts 0. A counter changes in the same transaction as the rows, and becomes
visible with them: a reader that reads the stamps first and the rows after can see rows newer than its stamps (its
page is then kept under stamps that have already passed, and rendered again at the next request), never older.

Tables written at every request or every few seconds, which no kept page may read, carry no trigger
(UNSTAMPED_TABLES): a page that reads one of them is never kept (lms.accounts.kept_pages). Every other table of the
schema must have its triggers (`stamped_tables`); a new table gets them from its migration (`install` takes the
table names), and tests/test_kept_pages.py checks that the migrated schema has them on every such table.

The same SQL is installed by `db.create_all()` (the metadata hook below: tests and benchmarks) and by the
migration c21f00000001 (which keeps its own frozen copy). On SQLite, a batch migration that rebuilds a table drops
its triggers: such a migration must install them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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

# PostgreSQL spreads the writers over this many rows (by transaction id): a transaction locks one row only, so
# writers never deadlock on them, and writers on different rows commit in parallel. Measured with pgbench (16
# clients inserting one row per transaction): 1 800 commits/s with one row, 5 600 with eight, 12 000 without
# triggers. Readers add the rows up.
SLOTS = 8

stamps_table = sa.Table(
    STAMPS_TABLE,
    sa.MetaData(),  # attached to the app's metadata by listen()
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),  # the slot
    sa.Column("epoch", sa.BigInteger, nullable=False),  # drawn at random when the row is made
    sa.Column("versions", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
)


@dataclass(frozen=True, slots=True)
class Stamps:
    """The stamps as one statement read them: the rows' epoch (how many there are and their random epochs, so that
    a row deleted or made again never leaves the same epoch) and each stamped table's counter (its sum)."""

    epoch: str
    versions: dict[str, int]

    def of_table(self, table: str) -> int:
        """A table's counter: 0 until its first change since the rows were made."""
        return int(self.versions.get(table, 0))


def stamp_sums(tables: Iterable[str]) -> sa.Subquery:
    """The stamps as one row of columns, for another statement to join (read in its one round trip): `rows` and
    `epochs` (the epoch), then each table's counter summed over the rows, in the order of `tables`. The names are
    bound parameters (the JSON keys) and the columns are numbered, so the statement's text names no table: a test
    or a note of the tables a page reads never mistakes it for a read of them."""
    row = stamps_table.c
    return sa.select(
        sa.func.count().label("rows"),
        sa.func.coalesce(sa.func.sum(row.epoch), 0).label("epochs"),
        *(
            sa.func.coalesce(sa.func.sum(sa.cast(row.versions[table].as_string(), sa.BigInteger)), 0).label(
                f"t{n}"
            )
            for n, table in enumerate(tables)
        ),
    ).subquery("stamps")


def stamps_of(tables: Iterable[str], values: Sequence[Any]) -> Stamps:
    """From stamp_sums' columns as read, in their order."""
    rows, epochs, *counters = values
    return Stamps(f"{rows}:{epochs}", dict(zip(tables, (int(c) for c in counters), strict=True)))


def read_stamps(connection: sa.Connection, tables: Iterable[str]) -> Stamps:
    names = list(tables)
    sums = stamp_sums(names)
    return stamps_of(names, connection.execute(sa.select(sums)).one())


# --- the triggers ------------------------------------------------------------------------------------------------

_PG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger AS $$
BEGIN
    IF current_setting('lms_stamped.' || TG_TABLE_NAME, true) = '1' THEN
        RETURN NULL;
    END IF;
    INSERT INTO {STAMPS_TABLE} AS s (id, epoch, versions)
    VALUES (mod(txid_current(), {SLOTS})::integer, (random() * 1e15)::bigint, jsonb_build_object(TG_TABLE_NAME, 1))
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
        f"VALUES (0, abs(random() % 1000000000000000), json_object('{table}', 1)) "
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

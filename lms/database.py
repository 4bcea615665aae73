"""The declarative base, constraint naming convention and column types shared by every model."""

from __future__ import annotations

import os
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Named constraints from the first table on, so Alembic never meets an unnamed one (SQLite batch mode needs names).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always aware UTC in Python, whatever the database keeps (SQLite keeps no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use lms.clock.now_utc()")
        value = value.astimezone(UTC)
        # SQLite stores text; store it without offset so string comparison orders correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


@sa.event.listens_for(sa.engine.Engine, "connect")
def _configure_sqlite(dbapi_connection: object, _record: object) -> None:
    """WAL, a busy timeout and foreign keys, so several server processes can share one SQLite file safely."""
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def install_statement_engine(app: Flask, engine: sa.Engine) -> sa.Engine:
    """The engine that single_read and single_write use: on PostgreSQL a pool of its own whose connections stay
    in autocommit mode, so checking one out costs no switch of mode and giving it back no ROLLBACK (about 0.1 ms
    of CPU per statement, measured); on SQLite the app's engine, whose mode is never switched. Its connections
    are never carried across a fork (a forked child starts with an empty pool)."""
    if engine.dialect.name == "sqlite":
        statements = engine
    else:
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.update(isolation_level="AUTOCOMMIT", pool_reset_on_return=None)
        statements = sa.create_engine(engine.url, **options)
        _FORKABLE.add(statements)
    app.extensions["lms_statement_engine"] = statements
    return statements


def statement_engine() -> sa.Engine:
    return current_app.extensions["lms_statement_engine"]  # type: ignore[no-any-return]


_FORKABLE: weakref.WeakSet[sa.Engine] = weakref.WeakSet()


def _forget_connections_after_fork() -> None:
    for engine in list(_FORKABLE):
        engine.dispose(close=False)  # the parent's connections stay the parent's


os.register_at_fork(after_in_child=_forget_connections_after_fork)


@contextmanager
def single_read() -> Iterator[sa.Connection]:
    """A pooled connection for one read statement outside any transaction (autocommit).

    A read in the session's transaction costs three round trips to PostgreSQL (BEGIN, the query, and the ROLLBACK
    when the connection goes back to the pool); this costs one. For the busiest reads only: the rows read are not
    tracked by the session, and two statements run here do not see one snapshot. SQLite reads outside a
    transaction anyway (pysqlite begins one only before a write).
    """
    with statement_engine().connect() as connection:
        yield connection


@contextmanager
def single_write() -> Iterator[sa.Connection]:
    """A pooled connection for one write statement that is atomic on its own, committed when the block ends.

    On PostgreSQL the statement runs outside a transaction (autocommit): one round trip, its row locks (FOR
    UPDATE) held until it ends, where BEGIN, the statement and COMMIT would be three. SQLite has no row locks: the
    database's write lock is taken first (BEGIN IMMEDIATE), so nothing changes between what the statement reads
    and what it writes.
    """
    engine = statement_engine()
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            yield connection
            connection.commit()
        else:
            yield connection


def begin_write_on_sqlite(session: Any) -> None:
    """Take SQLite's database write lock now (BEGIN IMMEDIATE), before reading the rows a change depends on.

    SQLite has no row locks, so this stands in for the FOR UPDATE that the same code's SELECT takes on PostgreSQL
    (where this does nothing). It does nothing either when the connection is already in a transaction: the lock
    (or the right to take it) was settled when that transaction began."""
    if session.get_bind().dialect.name != "sqlite":
        return
    driver = session.connection().connection.driver_connection
    if not driver.in_transaction:
        session.execute(sa.text("BEGIN IMMEDIATE"))


def labelled_columns(model: type, names: Sequence[str]) -> list[sa.ColumnElement[Any]]:
    """The table columns of `model` named `names`, labelled "<table>_<column>", for Core statements that read
    several tables' columns of the same name into rows."""
    table = model.__table__  # type: ignore[attr-defined]
    return [table.c[name].label(f"{table.name}_{name}") for name in names]


def dispose_engines(app_engine: sa.Engine) -> None:
    """Close every pooled connection of the app (its engine, and the one for single statements)."""
    app_engine.dispose()
    statements = current_app.extensions.get("lms_statement_engine")
    if statements is not None and statements is not app_engine:
        statements.dispose()


# Indexes a migration makes outside the models: PostgreSQL's trigram indexes for the user searches (migration
# c21e00000001, only where pg_trgm could be created). create_all and Alembic's comparison know no "PostgreSQL
# with this extension only", so the models leave them out and autogenerate leaves them alone.
MIGRATION_ONLY_INDEXES = frozenset({"ix_users_email_trgm", "ix_users_name_trgm"})


def compared_with_models(
    _obj: object, name: str | None, type_: str, _reflected: bool, _compare_to: object
) -> bool:
    """Alembic's include_object: everything but MIGRATION_ONLY_INDEXES."""
    return not (type_ == "index" and name in MIGRATION_ONLY_INDEXES)

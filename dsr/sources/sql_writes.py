"""Writing to a `sql` system: erasure and correction change the organisation's own databases.

`writing()` gives a connection whose transactions are real transactions on every backend, so a
batch that reads rows and then changes them sees no one else's change in between:

- SQLite takes its write lock at BEGIN (`BEGIN IMMEDIATE`; Python's sqlite3 would otherwise start
  the transaction only at the first UPDATE) and checks foreign keys, as the servers do.
- PostgreSQL and MariaDB run at READ COMMITTED; a batch locks the rows it reads (`SELECT … FOR UPDATE`),
  where REPEATABLE READ (the lookup's setting) would fail a batch whose rows changed since it began.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, event, inspect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeEngine

from dsr.domain.dataset import System
from dsr.sources.sql import column_types
from dsr.sources.sql_connection import SourceError, connect, describe_error, system_url


@dataclass(frozen=True)
class ColumnSpec:
    """What the database says about a declared column."""

    type: TypeEngine
    nullable: bool


ColumnSpecs = dict[str, dict[str, ColumnSpec]]  # table → column → spec


def _sqlite_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # we send BEGIN ourselves (below)
    dbapi_connection.execute("PRAGMA foreign_keys = ON")


def _sqlite_begin(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def writing(system: System, environ: Mapping[str, str] | None = None) -> Iterator[Connection]:
    """A connection that may write to the system; driver errors come out as SourceError, without the password."""
    engine = connect(system, environ, read_only=False)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    try:
        with engine.connect() as connection:
            if engine.dialect.name != "sqlite":
                connection.execution_options(isolation_level="READ COMMITTED")
            yield connection
    except SQLAlchemyError as exc:
        raise SourceError(
            f"{system.name}: the database refused the change ({describe_error(exc, system_url(system, environ))})."
        ) from exc
    finally:
        engine.dispose()


def column_specs(connection: Connection, system: System) -> ColumnSpecs:
    """Type and nullability of every declared column; refuses tables or columns that are not there."""
    types = column_types(connection, system)
    inspector = inspect(connection)
    nullable: dict[tuple[str | None, str, str], bool] = {}
    for schema in {t.schema for t in system.tables}:
        names = [t.name for t in system.tables if t.schema == schema]
        for (_, name), columns in inspector.get_multi_columns(schema=schema, filter_names=names).items():
            nullable.update({(schema, name, c["name"]): bool(c.get("nullable", True)) for c in columns})
    return {
        table.name: {
            name: ColumnSpec(type_, nullable.get((table.schema, table.name, name), True))
            for name, type_ in types[table.name].items()
        }
        for table in system.tables
    }

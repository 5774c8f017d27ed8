"""Connecting to a `sql` system of the data inventory, and checking that its tables are really there."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from dsr.domain.dataset import System, SystemKind, expand
from dsr.domain.errors import DomainError


class SourceError(DomainError):
    """A system of the data inventory cannot be reached or read; the message holds no secret."""


def system_url(system: System, environ: Mapping[str, str] | None = None) -> URL:
    """The system's URL with ${VARIABLES} filled in (never log it: it may hold a password)."""
    try:
        return make_url(expand(system.url, os.environ if environ is None else environ))
    except ArgumentError:
        raise SourceError(f"{system.name}: the database URL is not a valid SQLAlchemy URL.") from None


def connect(system: System, environ: Mapping[str, str] | None = None, read_only: bool = True) -> Engine:
    """An engine for one lookup or check; SQLite files open read-only (and are never created by accident)."""
    if system.kind is not SystemKind.SQL:
        raise SourceError(f"{system.name} is a {system.kind} system, not a database.")
    url = system_url(system, environ)
    options: dict = {"poolclass": NullPool, "hide_parameters": True}
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        if not path.is_file():
            raise SourceError(f"{system.name}: the SQLite file {path} does not exist.")
        if read_only:
            url = url.set(
                database=f"file:{quote(str(path.resolve()))}", query={**url.query, "mode": "ro", "uri": "true"}
            )
    elif url.get_backend_name() in ("postgresql", "mysql", "mariadb"):
        # One snapshot for the whole lookup, so every table agrees with every other.
        options["isolation_level"] = "REPEATABLE READ"
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("psycopg", "psycopg2"):
        # Results stream through a server-side cursor, which PostgreSQL plans for the first 10% of rows
        # by default: a walk of a whole big table in key order rather than an index lookup of the
        # person's few rows. We always read every row.
        options["connect_args"] = {"options": "-c cursor_tuple_fraction=1"}
    return create_engine(url, **options)


def describe_error(exc: BaseException, url: URL | None = None) -> str:
    """The driver's own words, first line only, with any password blotted out."""
    detail = str(getattr(exc, "orig", None) or exc).strip()
    text = detail.splitlines()[0] if detail else type(exc).__name__
    if url is not None and url.password:
        text = text.replace(str(url.password), "***")
    return text


@dataclass(frozen=True)
class ConnectionCheck:
    ok: bool
    message: str


def test_connection(system: System, environ: Mapping[str, str] | None = None) -> ConnectionCheck:
    """Connect and compare the declared tables and fields with the database; never raises."""
    url = None
    try:
        engine = connect(system, environ)
        url = system_url(system, environ)
    except DomainError as exc:
        return ConnectionCheck(False, str(exc))
    try:
        with engine.connect() as connection:
            inspector = inspect(connection)
            problems = []
            for table in system.tables:
                if not inspector.has_table(table.name, schema=table.schema):
                    problems.append(f"the table {table.name} does not exist")
                    continue
                present = {c["name"] for c in inspector.get_columns(table.name, schema=table.schema)}
                missing = [c for c in table.columns if c not in present]
                if missing:
                    problems.append(f"{table.name} has no column {', '.join(missing)}")
    except SQLAlchemyError as exc:
        return ConnectionCheck(False, f"{system.name}: could not connect ({describe_error(exc, url)}).")
    finally:
        engine.dispose()
    if problems:
        return ConnectionCheck(False, f"{system.name}: connected, but " + "; ".join(problems) + ".")
    fields = sum(len(t.fields) for t in system.tables)
    return ConnectionCheck(
        True, f"{system.name}: connected; all {len(system.tables)} tables and {fields} fields found."
    )


test_connection.__test__ = False  # type: ignore[attr-defined]  # not a pytest test, despite the name

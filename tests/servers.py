"""PostgreSQL and MariaDB as *source* databases (the organisation's systems) for tests.

DSR_SERVER_TESTS decides which servers the source-database tests run against, besides SQLite:
  auto (default)  every server that answers on this machine; the test header says which did not
  all             both, and a server that does not answer is a failure (CI sets this)
  off             SQLite only (a laptop without database servers)
Each test database is created on first use and never the app's own `test` database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

SERVERS = {
    "postgresql": (
        "postgresql+psycopg://postgres@127.0.0.1:5432/{name}",
        "postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
    ),
    "mariadb": ("mysql+pymysql://root@127.0.0.1:3306/{name}", "mysql+pymysql://root@127.0.0.1:3306/mysql"),
}


def mode() -> str:
    return os.environ.get("DSR_SERVER_TESTS", "auto").strip().lower()


@cache
def reachable(kind: str) -> bool:
    try:
        engine = create_engine(SERVERS[kind][1], connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except OperationalError:
        return False


def server_kinds() -> list[str]:
    """The servers the source-database tests should use now."""
    if mode() == "off":
        return []
    if mode() == "all":
        return list(SERVERS)
    return [kind for kind in SERVERS if reachable(kind)]


def header() -> str:
    missing = [kind for kind in SERVERS if kind not in server_kinds()]
    if not missing:
        return f"source-database tests: sqlite, {', '.join(SERVERS)}"
    return f"source-database tests: not on {', '.join(missing)} (DSR_SERVER_TESTS={mode()}; CI runs them all)"


def database_url(kind: str, name: str) -> str:
    """A URL for database `name` on that server, creating the database if needed."""
    url, admin = SERVERS[kind]
    engine = create_engine(admin, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            if kind == "postgresql":
                if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}):
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
            else:
                connection.execute(text(f"CREATE DATABASE IF NOT EXISTS `{name}`"))
    except OperationalError as exc:
        raise AssertionError(
            f"{kind} is not reachable for source-database tests ({exc.orig}); "
            "set DSR_SERVER_TESTS=off to run SQLite only"
        ) from None
    finally:
        engine.dispose()
    return url.format(name=name)


@contextmanager
def exclusive(url: str) -> Iterator[None]:
    """Hold a lock on the server for as long as a test uses this database, so test runs that share it (another
    engineer's, another backend's) take turns: a PostgreSQL advisory lock (scoped to the database), a MariaDB
    named lock (named after it). A SQLite file belongs to one run already."""
    backend = make_url(url).get_backend_name()
    if backend not in ("postgresql", "mysql", "mariadb"):
        yield
        return
    database = make_url(url).database
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            if backend == "postgresql":
                connection.execute(text("SELECT pg_advisory_lock(80080008)"))
            else:
                taken = connection.scalar(text("SELECT GET_LOCK(:name, 3600)"), {"name": f"dsr-tests:{database}"})
                assert taken == 1, f"another test run held {database} for an hour"
            connection.commit()
            try:
                yield
            finally:
                if backend == "postgresql":
                    connection.execute(text("SELECT pg_advisory_unlock(80080008)"))
                else:
                    connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": f"dsr-tests:{database}"})
                connection.commit()
    finally:
        engine.dispose()

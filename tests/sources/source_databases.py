"""The demo CRM as a *source* database that tests write to, fresh for each test, on every backend.

`source_crm` runs a test on SQLite and on the servers tests/servers.py selects (DSR_SERVER_TESTS:
`all` in CI, where a server that does not answer FAILS with a message saying so; `auto` on a
developer machine; `off` for SQLite only), in database `dsr_erasure_test`, created on first use —
never the app's `test` database.

Import the fixture into a test module: `from tests.sources.source_databases import source_crm_fixture  # noqa: F401`.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from dsr.sources import demo_crm_schema as schema
from dsr.sources.demo_crm import populate_demo_crm
from tests.servers import SERVERS, database_url, exclusive, reachable, server_kinds

DATABASE = "dsr_erasure_test"
KINDS = ["sqlite", *server_kinds()]


@dataclass
class SourceCrm:
    """One backend's copy of the demo CRM (the same rows as the `crm_path` fixture's SQLite file)."""

    kind: str
    url: str
    template: Path  # the SQLite file to copy from

    @property
    def environ(self) -> dict[str, str]:
        return {"DSR_DEMO_CRM_URL": self.url}

    def reset(self) -> None:
        """Back to the untouched demo CRM."""
        if self.kind == "sqlite":
            shutil.copyfile(self.template, self.url.removeprefix("sqlite:///"))
        else:
            populate_demo_crm(self.url, people=40, seed=7)

    def rows(self) -> dict[str, dict[tuple, tuple]]:
        """Every row of every table, by primary key, exactly as the driver returns it."""
        engine = create_engine(self.url)
        try:
            with engine.connect() as connection:
                tables = {}
                for table in schema.metadata.sorted_tables:
                    keys = [list(table.columns).index(c) for c in table.primary_key]
                    rows = connection.execute(select(table)).all()
                    tables[table.name] = {tuple(row[i] for i in keys): tuple(row) for row in rows}
                return tables
        finally:
            engine.dispose()

    def checksums(self) -> dict[str, str]:
        """A SHA-256 of each whole table, in key order."""
        return {
            name: hashlib.sha256(repr(sorted(rows.items())).encode()).hexdigest() for name, rows in self.rows().items()
        }

    def execute(self, sql: str) -> None:
        engine = create_engine(self.url)
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(sql)
        finally:
            engine.dispose()


@pytest.fixture(name="source_crm", params=KINDS)
def source_crm_fixture(request, crm_path, tmp_path) -> Iterator[SourceCrm]:
    kind = request.param
    if kind == "sqlite":
        crm = SourceCrm(kind, f"sqlite:///{tmp_path / 'crm.sqlite3'}", crm_path)
    else:
        if not reachable(kind):
            pytest.fail(
                f"{kind} does not answer on 127.0.0.1 ({SERVERS[kind][1]}), so erasure and correction cannot be "
                "proven on it: start it, or set DSR_SERVER_TESTS=off to run these tests on SQLite only.",
                pytrace=False,
            )
        crm = SourceCrm(kind, database_url(kind, DATABASE), crm_path)
    with exclusive(crm.url):  # test runs sharing the server take turns on its database
        crm.reset()
        yield crm

"""Real scheduler processes for the multi-process tests, and the PostgreSQL database they share
(the `shared` fixture: import it into a test module with `from tests.jobs.processes import shared_fixture`).

Which database: DSR_TEST_DATABASE_URL when it is PostgreSQL (the suite's own database); otherwise
the local server's dsr_scheduler_test database (created when missing), as tests/servers.py decides:
CI (DSR_SERVER_TESTS=all) fails if PostgreSQL does not answer; a laptop without it (off, or auto
with no server) reports the tests as not run, with the reason.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import flask_migrate
import pytest
from flask import Flask
from sqlalchemy import MetaData

from dsr import create_app
from dsr.extensions import db
from tests.conftest import empty_database
from tests.servers import database_url, exclusive, header, server_kinds

PROJECT = Path(__file__).resolve().parents[2]
MAIL_FROM = "Acme CRM Privacy <privacy@acme-crm.example>"


def postgres_url() -> tuple[str, bool]:
    """(URL, whether it is the suite's own database).

    DSR_TEST_DATABASE_URL when it is PostgreSQL; else the local server's dsr_scheduler_test database
    (tests/servers.py: required under DSR_SERVER_TESTS=all, as in CI; used when it answers under auto).
    """
    suite = os.environ.get("DSR_TEST_DATABASE_URL", "")
    if suite.startswith("postgresql"):
        return suite, True
    if "postgresql" not in server_kinds():
        pytest.skip(f"two scheduler processes need PostgreSQL, which is not in use here ({header()})")
    return database_url("postgresql", "dsr_scheduler_test"), False


_local_apps: dict[str, Flask] = {}


@pytest.fixture(name="shared")
def shared_fixture(request, app, tmp_path_factory):
    """(app, url) on the PostgreSQL database the scheduler processes share, empty, in an app context."""
    url, suite_database = postgres_url()
    if suite_database:
        request.getfixturevalue("database")  # the suite's own database, emptied after the test
        yield app, url
        return
    with exclusive(url):  # another test run (another engineer's, another database's) may share it
        yield from _local(url, tmp_path_factory)


def _local(url: str, tmp_path_factory):
    """A second app on the local database, rebuilt by the migrations each time (another run may have changed it)."""
    if url not in _local_apps:
        bundles = str(tmp_path_factory.mktemp("bundles"))
        _local_apps[url] = create_app("test", {"SQLALCHEMY_DATABASE_URI": url, "DSR_BUNDLE_DIR": bundles})
    local = _local_apps[url]
    with local.app_context():
        metadata = MetaData()
        metadata.reflect(bind=db.engine)
        metadata.drop_all(bind=db.engine)
        flask_migrate.upgrade()
        empty_database()
        yield local, url
        empty_database()


class SchedulerProcess:
    """`flask --app app dsr scheduler` in its own process, logging to a file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = open(log, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and command
            [sys.executable, "-m", "flask", "--app", "app", "dsr", "scheduler"],
            cwd=PROJECT,
            env=env,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def kill(self) -> None:
        """SIGKILL: no clean-up, no chance to commit, as when a machine dies."""
        self.process.kill()
        self.process.wait(10)
        self._out.close()

    def terminate(self) -> None:
        """SIGTERM, as a process manager stops it; returns at once (see wait())."""
        self.process.send_signal(signal.SIGTERM)

    def exited(self) -> bool:
        return self.process.poll() is not None

    def wait(self, timeout: float) -> int:
        """The exit status once it has exited (negative: killed by that signal)."""
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running {timeout} s later\n{self.output()}") from None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._out.close()

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


def scheduler_env(app: Flask, url: str, smtp: tuple[str, int], lease_seconds: int = 3) -> dict[str, str]:
    host, port = smtp
    return {
        **os.environ,
        "DSR_ENV": "test",
        "DSR_TEST_DATABASE_URL": url,
        "DSR_BUNDLE_DIR": app.config["DSR_BUNDLE_DIR"],
        "DSR_SMTP_HOST": host,
        "DSR_SMTP_PORT": str(port),
        "DSR_SMTP_SECURITY": "none",
        "DSR_MAIL_FROM": MAIL_FROM,
        "DSR_OUTBOX_INTERVAL_SECONDS": "1",
        "DSR_OUTBOX_LEASE_SECONDS": str(lease_seconds),
        "DSR_REMINDER_INTERVAL_SECONDS": "1",
        "DSR_REMINDER_TIME": "00:00",
        "DSR_REMINDER_DAYS": "7,3,1,0",
        "DSR_REMINDER_HOLIDAYS": "",  # weekends only
        "DSR_DIGEST_TIME": "00:00",
        "DSR_LOG_LEVEL": "WARNING",
    }


def wait_for(condition: Callable[[], bool], timeout: float, what: str, processes: list[SchedulerProcess]) -> None:
    give_up = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > give_up:
            logs = "\n".join(p.output() for p in processes)
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{logs}")
        time.sleep(0.05)

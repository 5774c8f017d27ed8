"""Fixtures shared by every test layer.

The database is built once per session by the real Alembic migrations (SQLite in a temp file,
or DSR_TEST_DATABASE_URL for PostgreSQL/MariaDB) and emptied after each test that used it.
"""

from __future__ import annotations

import os
import socket
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path

import flask_migrate
import pytest
from flask.testing import FlaskClient
from sqlalchemy import MetaData, delete
from werkzeug.serving import make_server

from dsr import create_app
from dsr.extensions import db, limiter
from dsr.services.letters import seed_letters
from dsr.services.rules import seed_default_rules

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


class MovableClock:
    """The app's notion of now; tests move it instead of sleeping."""

    def __init__(self) -> None:
        self.current: datetime | None = None

    def __call__(self) -> datetime:
        return self.current or datetime.now(UTC)

    def set(self, moment: datetime) -> datetime:
        self.current = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return self.current

    def advance(self, **delta: float) -> datetime:
        return self.set(self() + timedelta(**delta))


_clock = MovableClock()


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (own `g` and DB session), as on a real server,
    even while the test itself holds an app context open."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


def _drop_everything() -> None:
    """Leave the test database empty, whatever an earlier run left behind."""
    metadata = MetaData()
    metadata.reflect(bind=db.engine)
    metadata.drop_all(bind=db.engine)


@pytest.fixture(scope="session")
def demo_crm(tmp_path_factory) -> str:
    """The demo organisation's CRM (datasets/demo.yaml reads DSR_DEMO_CRM_URL), built once per run."""
    from dsr.sources.demo_crm import create_demo_crm

    path = create_demo_crm(tmp_path_factory.mktemp("crm") / "demo_crm.sqlite3")
    os.environ["DSR_DEMO_CRM_URL"] = f"sqlite:///{path}"
    return os.environ["DSR_DEMO_CRM_URL"]


@pytest.fixture(scope="session")
def app(tmp_path_factory, demo_crm):
    url = os.environ.get("DSR_TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    bundles, uploads = tmp_path_factory.mktemp("bundles"), tmp_path_factory.mktemp("uploads")
    application = create_app(
        "test",
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "DSR_NOW": _clock,
            "DSR_BUNDLE_DIR": str(bundles),
            "DSR_UPLOAD_DIR": str(uploads),
        },
    )
    application.test_client_class = IsolatedClient
    with application.app_context():
        _drop_everything()
        flask_migrate.upgrade()
    return application


@pytest.fixture
def clock() -> MovableClock:
    yield _clock
    _clock.current = None


def empty_database() -> None:
    """Remove every row and seed the rules and letters again (in an app context)."""
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(delete(table))
    seed_default_rules(db.session)
    seed_letters(db.session)
    db.session.commit()


@pytest.fixture
def database(app):
    """An app context and a clean database; rows written by the test are removed afterwards."""
    with app.app_context():
        yield db
        empty_database()
    limiter.reset()
    _clock.current = None


@pytest.fixture
def session(database):
    return database.session


@pytest.fixture
def client(app, database):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over real HTTP on a free loopback port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """Messages received by the loopback SMTP server."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler hook
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


@pytest.fixture(scope="session")
def smtp_server():
    """A real SMTP server (aiosmtpd) on loopback; yields (host, port, mailbox)."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.hostname, controller.port, mailbox
    controller.stop()


@pytest.fixture
def mailbox(smtp_server) -> Mailbox:
    box = smtp_server[2]
    box.messages.clear()
    return box


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("DSR_CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server, database, request):
    """A fresh browser tab; a screenshot lands in test-artifacts/ when the test ends."""
    context = browser.new_context(base_url=live_server)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    ARTIFACTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def pytest_report_header(config):
    from tests.servers import header

    return header()

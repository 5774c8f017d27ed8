"""Faults a real deployment meets, caused for real: a locked database during intake, a mail server
that refuses for a while, a worker killed while it builds a bundle. Nothing is lost or done twice."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from io import BytesIO
from pathlib import Path

import flask_migrate
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from dsr import create_app
from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action
from dsr.domain.requests import RequestType
from dsr.domain.verification import Factor
from dsr.extensions import db
from dsr.fulfilment.bundle import open_bundle
from dsr.models import Bundle, DataSubjectRequest, FulfilmentJob, JobStatus, OutboxMessage
from dsr.notify.delivery import deliver_due
from dsr.notify.mailers import SmtpMailer
from dsr.notify.outbox import queue_email
from dsr.notify.sms import ConsoleSms
from dsr.services import fulfilment
from dsr.services.requests import transition
from dsr.sources.demo_crm_bulk import create_bulk_crm
from dsr.web.sessions import bundle_context
from tests.conftest import free_port
from tests.factories import make_request
from tests.web.conftest import csrf_token

ROOT = Path(__file__).resolve().parents[2]
SECRET = "fault-tests-secret-key-that-is-long-enough"


def fresh_app(tmp_path: Path, **config):
    """An app with its own SQLite file (these faults must not touch the suite's database)."""
    url = f"sqlite:///{tmp_path / 'app.sqlite3'}"
    app = create_app(
        "test",
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": SECRET,
            "DSR_SQLITE_BUSY_MS": 300,
            **config,
        },
    )
    with app.app_context():
        flask_migrate.upgrade(directory=str(ROOT / "migrations"))
    return app


def test_database_outage_during_intake_saves_nothing_and_keeps_the_form(tmp_path):
    app = fresh_app(tmp_path)
    client = app.test_client()
    token = csrf_token(client, "/request")
    form = {
        "request_type": "access",
        "jurisdiction": "eu_gdpr",
        "name": "Ada Lovelace",
        "email": "ada@example.org",
        "privacy_ack": "y",
        "details": "Everything please",
        "csrf_token": token,
    }
    blocker = sqlite3.connect(tmp_path / "app.sqlite3")
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the database
    try:
        response = client.post("/request", data=form)
    finally:
        blocker.rollback()
        blocker.close()
    html = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Nothing was saved" in html and 'value="Ada Lovelace"' in html and "Everything please" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DataSubjectRequest)) == 0
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert client.post("/request", data=form).status_code == 302  # once it is back, the same form goes through
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DataSubjectRequest)) == 1


def test_pages_that_write_answer_503_not_500_while_another_writer_holds_the_database(tmp_path):
    app = fresh_app(tmp_path)
    client = app.test_client()
    token = csrf_token(client, "/status")
    blocker = sqlite3.connect(tmp_path / "app.sqlite3")
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        form = {"csrf_token": token, "reference": "DSR-2026-AAAA-BBBB", "email": "ada@example.org"}
        lookup = client.post("/status", data=form)
        health = client.get("/healthz")  # WAL: readers are never blocked by a writer
    finally:
        blocker.rollback()
        blocker.close()
    assert lookup.status_code == 503 and "nothing was saved" in lookup.get_data(as_text=True)
    assert health.status_code == 200


class Refusing:
    """An SMTP server that answers 451 (try later) to the first `refusals` messages."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.received = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        if self.refusals > 0:
            self.refusals -= 1
            return "451 4.3.0 Mail server busy, try again later"
        self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def test_mail_server_refusing_for_a_while_delivers_later_exactly_once(session, app):
    handler = Refusing(refusals=2)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        mailer = SmtpMailer("127.0.0.1", port=controller.port, security="none", sender="privacy@acme-crm.example")
        t0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
        message = queue_email(
            session,
            t0,
            to="ada@example.org",
            template="notice",
            context={"heading": "Hello", "paragraphs": ["Your request."]},
        )
        session.commit()
        outcomes = []
        for minutes in (0, 1, 5, 30, 90):
            report = deliver_due(session, t0 + timedelta(minutes=minutes), mailer, ConsoleSms())
            session.commit()
            outcomes.append((report.sent, report.retried))
        assert outcomes[:2] == [(0, 1), (0, 1)]  # refused twice, kept for later each time
        assert sum(sent for sent, _ in outcomes) == 1
        assert len(handler.received) == 1 and handler.received[0]["Message-ID"] == message.message_id
    finally:
        controller.stop()


def test_a_worker_killed_while_building_a_bundle_leaves_nothing_to_serve_and_the_job_finishes(tmp_path, monkeypatch):
    crm = tmp_path / "crm.sqlite3"
    subject = create_bulk_crm(f"sqlite:///{crm}", child_rows=120_000, other_customers=200)
    bundles = tmp_path / "bundles"
    app = fresh_app(tmp_path, DSR_BUNDLE_DIR=str(bundles))
    monkeypatch.setenv("DSR_DEMO_CRM_URL", f"sqlite:///{crm}")  # the dataset reads it; undone after the test
    with app.app_context():
        request = make_request(db.session, datetime.now(UTC), RequestType.ACCESS, email=subject.email)
        request.add_factor(Factor.EMAIL)
        transition(db.session, Actor.system("t"), datetime.now(UTC), request, Action.VERIFY)
        fulfilment.queue_bundle(db.session, Actor.system("t"), datetime.now(UTC), request, bundle_context().dataset)
        db.session.commit()
        request_id = request.id

    env = {
        **os.environ,
        "DSR_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "DSR_SECRET_KEY": SECRET,
        "DSR_BUNDLE_DIR": str(bundles),
        "DSR_DEMO_CRM_URL": f"sqlite:///{crm}",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "dsr", "run-jobs", "--once"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(bundles.glob("*.partial")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert list(bundles.glob("*.partial")), "the worker never started writing"
        time.sleep(0.3)
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.wait(timeout=30)

    assert not list(bundles.glob("*.bundle")), "a half-written bundle must never look finished"
    with app.app_context():
        assert db.session.scalar(select(Bundle)) is None  # nothing the requester could download
        job = db.session.scalar(select(FulfilmentJob))
        assert job.status is JobStatus.RUNNING  # its lease still holds
        later = datetime.now(UTC) + timedelta(minutes=6)
        assert fulfilment.claim_job(db.session, datetime.now(UTC)) is None  # not before the lease runs out
        db.session.commit()
        resumed = fulfilment.claim_job(db.session, later)
        db.session.commit()
        assert resumed.id == job.id
        bundle = fulfilment.run_bundle_job(db.session, lambda: later, resumed, bundle_context())
        db.session.commit()
        assert bundle is not None and bundle.request_id == request_id
        data = b"".join(open_bundle(bundles / bundle.file_name, app.extensions["dsr_cipher"].file_keys()))
        archive = zipfile.ZipFile(BytesIO(data))
        assert archive.testzip() is None and sum(bundle.row_counts.values()) == 120_001
    assert not list(bundles.glob("*.partial"))

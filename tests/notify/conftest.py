"""Loopback servers the notification tests deliver to: SMTP that can go down and refuse, and an SMS API."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dsr.notify.mailers import SmtpMailer
from tests.conftest import Mailbox, free_port

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MAIL_FROM = "Acme CRM Privacy <privacy@acme-crm.example>"


class RefusingMailbox(Mailbox):
    """Refuses recipients listed in `refuse` with the reply given there (e.g. "550 …" or "450 …")."""

    def __init__(self) -> None:
        super().__init__()
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # aiosmtpd handler hook
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"


class SmtpServer:
    """An aiosmtpd server on a fixed loopback port that a test can stop and start again."""

    def __init__(self) -> None:
        self.host, self.port = "127.0.0.1", free_port()
        self.mailbox = RefusingMailbox()
        self._controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self.mailbox, hostname=self.host, port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def mailer(self, **options) -> SmtpMailer:
        return SmtpMailer(self.host, port=self.port, security="none", sender=MAIL_FROM, timeout=5, **options)


@pytest.fixture
def smtp():
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_settings(app, monkeypatch):
    """The app's own settings: what the CLI and the message-ID domain read."""
    monkeypatch.setitem(app.config, "DSR_MAIL_FROM", MAIL_FROM)
    return app.config


class SmsApi:
    """A tiny SMS provider on loopback: records each POST and answers with the next queued status."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.statuses: list[int] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # http.server hook
                length = int(self.headers["Content-Length"])
                api.received.append({"headers": dict(self.headers), "json": json.loads(self.rfile.read(length))})
                status = api.statuses.pop(0) if api.statuses else 200
                body = json.dumps({"status": status}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):  # keep the test output quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1/messages"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)


@pytest.fixture
def sms_api():
    api = SmsApi()
    api.thread.start()
    yield api
    api.server.shutdown()
    api.server.server_close()

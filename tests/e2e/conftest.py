from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class SmsInbox:
    def __init__(self) -> None:
        self.messages: list[dict] = []


@pytest.fixture
def sms_provider():
    """A stand-in SMS provider on loopback: records what DSR Desk's HTTP SMS backend posts."""
    inbox = SmsInbox()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's naming)
            length = int(self.headers.get("Content-Length", 0))
            inbox.messages.append(json.loads(self.rfile.read(length)))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    inbox.url = f"http://127.0.0.1:{server.server_port}/messages"
    yield inbox
    server.shutdown()


@pytest.fixture
def delivering_app(app, live_server, smtp_server, sms_provider, monkeypatch):
    """The app wired to the real SMTP server and SMS provider, with links pointing at the live server."""
    host, port, _ = smtp_server
    for key, value in {
        "DSR_SMTP_HOST": host,
        "DSR_SMTP_PORT": port,
        "DSR_SMTP_SECURITY": "none",
        "DSR_MAIL_FROM": "privacy@acme-crm.example",
        "DSR_SMS_BACKEND": "http",
        "DSR_SMS_URL": sms_provider.url,
        "DSR_SMS_TOKEN": "test-token",
        "DSR_SMS_FROM": "ACME",
        "DSR_BASE_URL": live_server,
    }.items():
        monkeypatch.setitem(app.config, key, value)
    return app

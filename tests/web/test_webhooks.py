"""Signed webhooks both ways: out through the outbox (retried, delivered once), back through callbacks."""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from dsr.models import FulfilmentTask, OutboxMessage, OutboxStatus, TaskStatus
from dsr.notify.delivery import deliver_due
from dsr.notify.mailers import ConsoleMailer
from dsr.notify.outbox import queue_webhook
from dsr.notify.sms import ConsoleSms
from tests.factories import make_request
from tests.web.documented_signature import documented_headers, genuine

SECRET = b"demo-webhook-secret-not-for-production"  # datasets/demo.yaml's default for billing_partner
T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)


@pytest.fixture
def receiver(clock):
    """A webhook receiver on loopback that checks signatures as the README documents them (not with the
    app's own `verify`), against the test's clock, and refuses its first delivery."""
    got: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        calls = 0

        def do_POST(self):  # noqa: N802
            Handler.calls += 1
            body = self.rfile.read(int(self.headers["Content-Length"]))
            signed = genuine(SECRET, body, self.headers, clock())
            if Handler.calls == 1:
                self.send_response(503)
            elif not signed:
                self.send_response(401)
            else:
                got.append({"body": json.loads(body), "key": self.headers["Idempotency-Key"]})
                self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/dsr/jobs", got
    server.shutdown()


def deliver(session, clock, moment: datetime):
    return deliver_due(session, clock.set(moment), ConsoleMailer(), ConsoleSms())


def test_webhook_is_signed_retried_after_a_failure_and_received_once(session, receiver, clock):
    url, got = receiver
    message = queue_webhook(
        session,
        T0,
        url=url,
        payload={"event": "erasure", "id": 7},
        signing_key_ref="system:billing_partner",
        template="erasure_job",
    )
    session.commit()
    first = deliver(session, clock, T0)
    session.commit()
    assert (first.sent, first.retried) == (0, 1) and got == []
    assert deliver(session, clock, T0 + timedelta(seconds=10)).sent == 0  # backing off
    second = deliver(session, clock, T0 + timedelta(minutes=1))  # signed afresh for this attempt
    session.commit()
    assert second.sent == 1 and got == [{"body": {"event": "erasure", "id": 7}, "key": message.message_id}]
    assert deliver(session, clock, T0 + timedelta(hours=1)).sent == 0
    assert session.get(OutboxMessage, message.id).status is OutboxStatus.SENT


def test_the_webhook_body_is_encrypted_at_rest(session):
    message = queue_webhook(
        session,
        T0,
        url="https://partner.example/hook",
        payload={"email": "ada@example.org"},
        signing_key_ref="system:billing_partner",
        template="erasure_job",
    )
    assert "ada@example.org" not in message.body_text_encrypted
    with pytest.raises(ValueError):
        queue_webhook(session, T0, url="ftp://partner.example", payload={}, signing_key_ref=None, template="x")


@pytest.fixture
def waiting_task(session):
    request = make_request(session, T0)
    task = FulfilmentTask(
        request_id=request.id,
        system_key="billing_partner",
        external_ref="job-123",
        title="Waiting for billing_partner",
        instructions="callback",
    )
    session.add(task)
    session.commit()
    return task


def signed_post(client, body: bytes, secret: bytes = SECRET, when: datetime | None = None):
    """The partner's callback, signed as the README documents (not with the app's own signer)."""
    headers = documented_headers(secret, body, when or datetime.now(UTC))
    return client.post("/hooks/erasure/job-123", data=body, headers=headers)


def test_signed_callback_closes_the_task(client, session, waiting_task):
    response = signed_post(client, b'{"status": "erased 3 payment records"}')
    assert response.status_code == 200 and response.get_json() == {"status": "recorded"}
    session.expire_all()
    task = session.get(FulfilmentTask, waiting_task.id)
    assert task.status is TaskStatus.DONE and "erased 3 payment records" in task.note
    assert signed_post(client, b'{"status": "again"}').status_code == 200  # a replay changes nothing
    session.expire_all()
    assert "again" not in session.get(FulfilmentTask, waiting_task.id).note


@pytest.mark.parametrize(
    ("kwargs", "status", "reason"),
    [
        ({"secret": b"wrong"}, 403, "signature"),
        ({"when": datetime.now(UTC) - timedelta(hours=1)}, 403, "too old"),
    ],
)
def test_bad_callbacks_are_refused_with_a_reason(client, session, waiting_task, kwargs, status, reason):
    response = signed_post(client, b'{"status": "erased"}', **kwargs)
    assert response.status_code == status and reason in response.get_json()["reason"]
    session.expire_all()
    assert session.get(FulfilmentTask, waiting_task.id).status is TaskStatus.OPEN


def test_unknown_job_and_unsigned_posts(client, session, waiting_task):
    assert client.post("/hooks/erasure/nope", data=b"{}").status_code == 404
    unsigned = client.post("/hooks/erasure/job-123", data=b'{"status": "erased"}')
    assert unsigned.status_code == 403 and unsigned.is_json
    assert session.scalar(select(FulfilmentTask.status)) is TaskStatus.OPEN

"""Outgoing webhooks to admin-configured subscribers: signed, retried through the outbox, each event received once,
in the transaction of the change, and naming a person only to subscribers allowed to know who it is."""

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from dsr.domain.actors import Actor
from dsr.domain.api import WebhookEvent
from dsr.domain.consent import ConsentSource
from dsr.domain.dataset import SubjectIdentities
from dsr.domain.lifecycle import Action
from dsr.encryption import current_cipher
from dsr.models import OutboxMessage, OutboxStatus, WebhookDelivery
from dsr.notify.delivery import deliver_due
from dsr.notify.mailers import ConsoleMailer
from dsr.notify.sms import ConsoleSms
from dsr.services.consent import record_consent, subject_for
from dsr.services.requests import transition
from dsr.services.webhook_subscribers import SubscriberSettings, create_subscriber, replace_secret
from dsr.web.api.openapi import openapi_document
from dsr.web.api.schema import problems
from dsr.web.consent import consent_setup
from dsr.web.sessions import organisation
from tests.factories import make_request
from tests.web.documented_signature import genuine
from tests.web.openapi_support import JsonSchemaCheck

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
SECRET = "whsec_test-secret-for-the-receiver"
BOTH = frozenset(WebhookEvent)
TESTS = Actor.system("tests")


class Receiver:
    """A subscriber's endpoint on loopback: checks each signature as the README documents it (not with the
    app's own `verify`) against the test's clock, refuses the first delivery it gets with a 500, and keeps
    what it accepted."""

    def __init__(self, clock) -> None:
        self.secret = SECRET.encode()
        self.accepted: list[dict] = []
        self.calls = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server hook)
                receiver.calls += 1
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = self.headers
                signed = genuine(receiver.secret, body, headers, clock())  # as the README tells receivers
                if receiver.calls == 1:
                    self.send_response(500)
                elif not signed:
                    self.send_response(401)
                else:
                    receiver.accepted.append({"path": self.path, "key": headers["Idempotency-Key"], **json.loads(body)})
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/dsr"


@pytest.fixture
def receiver(clock):
    found = Receiver(clock)
    threading.Thread(target=found.server.serve_forever, daemon=True).start()
    yield found
    found.server.shutdown()
    found.server.server_close()


def subscribe(session, url, events=BOTH, identifiers=False, active=True, name="CRM", secret=SECRET):
    settings = SubscriberSettings(name, url, frozenset(events), identifiers, active)
    subscriber = create_subscriber(session, TESTS, T0, current_cipher(), settings, secret)
    session.commit()
    return subscriber


def deliver(session, clock, **delta):
    clock.set(T0 + timedelta(**delta))
    report = deliver_due(session, clock(), ConsoleMailer(), ConsoleSms())
    session.commit()
    return report


def consent_change(session, email="ada@example.org", phone=None, topic="marketing_email", granted=False):
    setup = consent_setup()
    person = subject_for(session, TESTS, T0, setup, SubjectIdentities.of(email=email, phone=phone))
    record_consent(session, TESTS, T0, setup, person, topic, granted, ConsentSource.API)
    session.commit()
    return person


def test_each_event_is_signed_retried_after_a_failure_and_received_once(session, receiver, clock):
    subscriber = subscribe(session, receiver.url)
    request = make_request(session, T0)
    transition(session, TESTS, T0, request, Action.VERIFY)
    session.commit()
    person = consent_change(session)

    first = deliver(session, clock)
    assert (first.sent, first.retried) == (1, 1)  # the receiver refused the first POST with a 500
    assert deliver(session, clock, seconds=10).sent == 0  # backing off
    assert deliver(session, clock, minutes=1).sent == 1
    assert deliver(session, clock, hours=2).sent == 0

    assert receiver.calls == 3 and len(receiver.accepted) == 2
    queued = session.scalars(select(WebhookDelivery.event_id)).all()
    assert sorted(event["id"] for event in receiver.accepted) == sorted(queued)
    by_type = {event["type"]: event for event in receiver.accepted}
    assert by_type["request.status_changed"]["data"] == {
        "reference": request.reference,
        "request_type": "access",
        "jurisdiction": "eu_gdpr",
        "source": "web",
        "previous_status": "submitted",
        "status": "verified",
        "action": "verify",
        "rejection_reason": None,
        "due_on": request.due_on.isoformat(),
    }
    consent = by_type["consent.changed"]["data"]
    assert (consent["subject"], consent["topic"], consent["granted"]) == (person.public_id, "marketing_email", False)
    assert (consent["current_state"], consent["purpose"]) == ("withdrawn", "marketing")
    assert "identifiers" not in consent
    everything = json.dumps(receiver.accepted)
    assert "Ada" not in everything and "ada@example.org" not in everything

    document = openapi_document(organisation(), "http://test/api/v1")
    schemas = {"request.status_changed": "RequestStatusChanged", "consent.changed": "ConsentChanged"}
    check = JsonSchemaCheck(document)
    for event in receiver.accepted:
        body = {k: v for k, v in event.items() if k not in ("path", "key")}
        ref = {"$ref": f"#/components/schemas/{schemas[event['type']]}"}
        assert problems(ref, body, document) == {}
        assert check.component_errors(schemas[event["type"]], body) == []  # and by jsonschema, independently

    log = session.scalars(select(WebhookDelivery).where(WebhookDelivery.subscriber_id == subscriber.id)).all()
    assert sorted(d.message.attempts for d in log) == [1, 2]
    assert {d.message.status for d in log} == {OutboxStatus.SENT}
    assert [d.message.last_error for d in log if d.message.attempts == 2] == ["500 Internal Server Error"]


def test_only_subscribers_allowed_to_receive_identifiers_get_them(session, receiver, clock):
    receiver.calls = 1  # no refusal this time
    subscribe(session, receiver.url + "/plain", events={WebhookEvent.CONSENT_CHANGED})
    subscribe(session, receiver.url + "/named", events={WebhookEvent.CONSENT_CHANGED}, identifiers=True)
    consent_change(session, phone="+44 7700 900123")
    assert deliver(session, clock).sent == 2
    by_path = {event["path"]: event for event in receiver.accepted}
    assert by_path["/hooks/dsr/plain"]["id"] == by_path["/hooks/dsr/named"]["id"]
    assert "identifiers" not in by_path["/hooks/dsr/plain"]["data"]
    named = by_path["/hooks/dsr/named"]["data"]["identifiers"]
    assert named == {"emails": ["ada@example.org"], "phones": ["447700900123"]}


def test_events_go_only_to_active_subscribers_that_asked_and_never_for_confidential_requests(session, receiver):
    subscribe(session, receiver.url, events={WebhookEvent.CONSENT_CHANGED})
    subscribe(session, receiver.url, active=False, name="Old CRM")
    request = make_request(session, T0)
    transition(session, TESTS, T0, request, Action.VERIFY)
    secret = make_request(session, T0)
    secret.confidential = True
    transition(session, TESTS, T0, secret, Action.VERIFY)
    session.commit()
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_an_event_is_queued_in_the_transaction_of_its_change(session, receiver):
    subscribe(session, receiver.url)
    request = make_request(session, T0)
    transition(session, TESTS, T0, request, Action.VERIFY)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0


def test_a_replaced_secret_signs_the_retries_still_waiting(session, receiver, clock):
    subscriber = subscribe(session, receiver.url, events={WebhookEvent.CONSENT_CHANGED})
    consent_change(session)
    assert deliver(session, clock).retried == 1  # the first POST is refused
    replace_secret(session, TESTS, T0, current_cipher(), subscriber, "whsec_the-new-secret-1234")
    session.commit()
    receiver.secret = b"whsec_the-new-secret-1234"
    assert deliver(session, clock, minutes=1).sent == 1 and len(receiver.accepted) == 1

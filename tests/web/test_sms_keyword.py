"""The SMS / WhatsApp provider's webhook: a signed "STOP" withdraws consent for that number; anything
unsigned, stale or forged is refused with a reason."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dsr.domain.consent import ConsentSource
from dsr.models import ConsentEvent
from dsr.sources.demo_crm import ASHA
from tests.services.consent_fixtures import crm_statuses, make_crm
from tests.web.documented_signature import documented_headers

SECRET = "provider-shared-secret"
T = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)
PATH = "/api/hooks/sms-keyword"


@pytest.fixture
def provider(app, clock, monkeypatch):
    monkeypatch.setitem(app.config, "DSR_SMS_WEBHOOK_SECRET", SECRET)
    clock.set(T)


def send(client, message: dict, at: datetime = T, secret: str = SECRET, signature: str | None = None):
    """The provider's POST, signed as the README documents (not with the app's own signer)."""
    body = json.dumps(message).encode()
    headers = documented_headers(secret.encode(), body, at)
    if signature is not None:
        headers["X-DSR-Signature"] = signature
    return client.post(PATH, data=body, headers=headers)


STOP = {"from": "+91 98450 12345", "body": "Stop", "message_id": "SM100", "channel": "whatsapp"}


def events(session) -> list[ConsentEvent]:
    return list(session.scalars(select(ConsentEvent).order_by(ConsentEvent.topic, ConsentEvent.evidence_ref)))


def test_a_signed_stop_withdraws_the_keyword_topics_for_that_number(client, session, provider, tmp_path, monkeypatch):
    crm = make_crm(tmp_path)
    monkeypatch.setenv("DSR_DEMO_CRM_URL", f"sqlite:///{crm}")
    response = send(client, STOP, at=T - timedelta(seconds=20))  # no session and no CSRF token needed
    assert response.status_code == 200
    assert response.get_json() == {"status": "recorded", "topics": ["marketing_sms", "marketing_whatsapp"]}
    assert [(e.topic, e.granted, e.source, e.evidence_ref) for e in events(session)] == [
        ("marketing_sms", False, ConsentSource.SMS_KEYWORD, "sms:SM100"),
        ("marketing_whatsapp", False, ConsentSource.SMS_KEYWORD, "sms:SM100"),
    ]
    assert events(session)[0].occurred_at == T - timedelta(seconds=20)  # when the provider sent it
    assert events(session)[0].evidence == {"message_id": "SM100", "channel": "whatsapp"}
    assert crm_statuses(crm, ASHA.email, ASHA.phone) == {
        "email": "granted",
        "sms": "withdrawn",
        "whatsapp": "withdrawn",
        "phone": "granted",
    }


def test_a_replay_within_the_window_is_harmless(client, session, provider):
    for _ in range(2):
        assert send(client, STOP).status_code == 200
    without_id = {"from": "+919845012345", "body": "STOP"}
    for _ in range(2):  # the same signed request again: recorded once
        assert send(client, without_id).status_code == 200
    assert [e.evidence_ref[:4] for e in events(session)] == ["sig:", "sms:", "sig:", "sms:"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"secret": "wrong-secret"}, "The signature does not match the body"),
        ({"signature": "sha256=00"}, "The signature does not match the body"),
        ({"at": T - timedelta(minutes=6)}, "The timestamp is more than 300 seconds away from our clock."),
        ({"at": T + timedelta(minutes=6)}, "The timestamp is more than 300 seconds away from our clock."),
    ],
)
def test_a_bad_signature_or_a_stale_timestamp_is_refused_with_a_reason(client, session, provider, change, reason):
    response = send(client, STOP, **change)
    assert response.status_code == 403
    assert response.get_json()["reason"].startswith(reason)
    assert events(session) == []


def test_missing_headers_a_bad_body_and_no_secret_are_refused(app, client, session, provider, monkeypatch):
    unsigned = client.post(PATH, json=STOP)
    assert unsigned.status_code == 403 and "headers are required" in unsigned.get_json()["reason"]
    malformed = send(client, {"body": "STOP"})
    assert malformed.status_code == 400 and '"from"' in malformed.get_json()["reason"]
    monkeypatch.setitem(app.config, "DSR_SMS_WEBHOOK_SECRET", None)
    assert send(client, STOP).status_code == 503
    assert events(session) == []


def test_a_text_that_is_no_keyword_is_acknowledged_and_ignored(client, session, provider):
    response = send(client, {"from": "+919845012345", "body": "When is my renewal?", "message_id": "SM7"})
    assert response.status_code == 200 and response.get_json() == {"status": "ignored", "topics": []}
    assert events(session) == []


def test_the_endpoint_is_rate_limited_with_a_json_answer(app, client, session, provider, monkeypatch):
    monkeypatch.setitem(app.config, "DSR_SMS_WEBHOOK_RATE_LIMIT", "2 per minute")
    answers = [send(client, {**STOP, "message_id": f"SM{n}"}) for n in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].get_json()["status"] == 429

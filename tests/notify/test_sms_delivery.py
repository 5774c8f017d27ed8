"""SMS over the HTTP provider backend (a loopback http.server): 2xx sent, 5xx retried, 4xx failed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config import ConfigurationError
from dsr.models import OutboxStatus
from dsr.notify.delivery import DeliveryReport, deliver_due
from dsr.notify.mailers import ConsoleMailer
from dsr.notify.outbox import queue_sms
from dsr.notify.sms import ConsoleSms, HttpSms, sms_from_config
from tests.conftest import free_port
from tests.notify.conftest import T0

TOKEN = "sms-api-token"


def queue(session):
    message = queue_sms(session, T0, to="+353861234567", template="code", context={"code": "482913"})
    session.commit()
    return message


def deliver(session, sms, now=T0) -> DeliveryReport:
    report = deliver_due(session, now, ConsoleMailer(), sms)
    session.commit()
    return report


def provider(url: str) -> HttpSms:
    return HttpSms(url, token=TOKEN, sender="AcmeCRM", timeout=5)


def test_a_text_is_posted_to_the_provider_with_the_token(session, sms_api):
    message = queue(session)
    assert deliver(session, provider(sms_api.url)) == DeliveryReport(sent=1)
    assert message.status is OutboxStatus.SENT
    [call] = sms_api.received
    assert call["json"] == {
        "to": "+353861234567",
        "from": "AcmeCRM",
        "body": "Acme CRM (demo): your verification code is 482913. It expires in 15 minutes.",
    }
    assert call["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert call["headers"]["Idempotency-Key"] == message.message_id


def test_a_provider_error_is_retried_later_and_then_succeeds(session, sms_api):
    sms_api.statuses = [500]
    message = queue(session)
    assert deliver(session, provider(sms_api.url)) == DeliveryReport(retried=1)
    assert (message.status, message.attempts, message.last_error) == (
        OutboxStatus.PENDING,
        1,
        "500 Internal Server Error",
    )
    assert message.next_attempt_at == T0 + timedelta(seconds=30)
    assert deliver(session, provider(sms_api.url), T0 + timedelta(seconds=30)) == DeliveryReport(sent=1)
    assert len(sms_api.received) == 2


def test_a_refused_number_fails_without_retrying(session, sms_api):
    sms_api.statuses = [400]
    message = queue(session)
    assert deliver(session, provider(sms_api.url)) == DeliveryReport(failed=1)
    assert (message.status, message.last_error) == (OutboxStatus.FAILED, "400 Bad Request")
    assert deliver(session, provider(sms_api.url), T0 + timedelta(days=1)) == DeliveryReport()
    assert len(sms_api.received) == 1


def test_an_unreachable_provider_is_retried(session):
    message = queue(session)
    assert deliver(session, provider(f"http://127.0.0.1:{free_port()}/v1/messages")) == DeliveryReport(retried=1)
    assert message.status is OutboxStatus.PENDING
    assert message.last_error.startswith("cannot reach the SMS provider")


def test_the_backend_is_chosen_by_configuration():
    assert isinstance(sms_from_config({"DSR_SMS_BACKEND": "console"}), ConsoleSms)
    http = sms_from_config(
        {
            "DSR_SMS_BACKEND": "http",
            "DSR_SMS_URL": "https://sms.example/send",
            "DSR_SMS_TOKEN": "t",
            "DSR_SMS_FROM": "A",
        }
    )
    assert isinstance(http, HttpSms) and http.url == "https://sms.example/send"
    with pytest.raises(ConfigurationError, match="DSR_SMS_URL"):
        sms_from_config({"DSR_SMS_BACKEND": "http"})
    with pytest.raises(ConfigurationError, match="http:// or https://"):
        HttpSms("file:///etc/passwd", token="t", sender="A")

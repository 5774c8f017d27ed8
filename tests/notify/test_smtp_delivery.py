"""Delivery over real SMTP (aiosmtpd on loopback): sent once, retried through outages, failed on refusal."""

from __future__ import annotations

import time
from contextlib import nullcontext
from datetime import timedelta

from sqlalchemy import select

from dsr.models import OutboxMessage, OutboxStatus
from dsr.notify.delivery import DeliveryReport, claim_due, deliver_due
from dsr.notify.mailers import SmtpMailer
from dsr.notify.messages import SendResult
from dsr.notify.outbox import queue_email
from dsr.notify.sms import ConsoleSms
from tests.conftest import free_port
from tests.notify.conftest import MAIL_FROM, T0

NOTICE = {
    "heading": "Your request is complete",
    "paragraphs": ["We have erased your account.", "Tom & Jerry stay on file."],
    "action_url": "https://privacy.acme-crm.example/r/abc",
    "action_label": "See the receipt",
}


def queue(session, to: str = "ada@example.org") -> OutboxMessage:
    message = queue_email(session, T0, to=to, template="notice", context=NOTICE)
    session.commit()
    return message


def deliver(session, mailer, now=T0, **options) -> DeliveryReport:
    report = deliver_due(session, now, mailer, ConsoleSms(), **options)
    session.commit()
    return report


def test_a_queued_email_arrives_once_with_text_html_and_its_message_id(session, smtp_server, mailbox):
    host, port, _ = smtp_server
    message = queue(session)
    mailer = SmtpMailer(host, port=port, security="none", sender=MAIL_FROM, timeout=5)

    assert deliver(session, mailer) == DeliveryReport(sent=1)
    assert deliver(session, mailer, T0 + timedelta(hours=2)) == DeliveryReport()  # nothing twice

    assert len(mailbox.messages) == 1
    received = mailbox.messages[0]
    assert received["Subject"] == "Your request is complete"
    assert received["To"] == "ada@example.org" and received["From"] == MAIL_FROM
    assert received["Message-ID"] == message.message_id
    assert received.get_content_type() == "multipart/alternative"
    text_part, html_part = received.get_payload()
    assert text_part.get_content_type() == "text/plain" and html_part.get_content_type() == "text/html"
    body_text = text_part.get_payload(decode=True).decode()
    body_html = html_part.get_payload(decode=True).decode()
    assert "We have erased your account." in body_text and "Tom & Jerry stay on file." in body_text
    assert "See the receipt: https://privacy.acme-crm.example/r/abc" in body_text
    assert "<h1>Your request is complete</h1>" in body_html and "Tom &amp; Jerry" in body_html
    assert (message.status, message.sent_at, message.attempts) == (OutboxStatus.SENT, T0, 1)


def test_an_outage_loses_nothing_and_the_message_goes_out_once_the_server_is_back(session, smtp):
    message = queue(session)
    mailer = smtp.mailer()
    smtp.stop()

    assert deliver(session, mailer) == DeliveryReport(retried=1)
    assert (message.status, message.attempts) == (OutboxStatus.PENDING, 1)
    assert message.next_attempt_at == T0 + timedelta(seconds=30)
    assert "cannot reach the mail server" in message.last_error and "erased" not in message.last_error

    assert deliver(session, mailer, T0 + timedelta(seconds=10)) == DeliveryReport()  # not due yet
    assert deliver(session, mailer, T0 + timedelta(seconds=30)) == DeliveryReport(retried=1)
    assert message.next_attempt_at == T0 + timedelta(seconds=30 + 60)  # backing off

    smtp.start()
    later = T0 + timedelta(minutes=5)
    assert deliver(session, mailer, later) == DeliveryReport(sent=1)
    assert deliver(session, mailer, later + timedelta(hours=1)) == DeliveryReport()
    assert len(smtp.mailbox.messages) == 1
    assert smtp.mailbox.messages[0]["Message-ID"] == message.message_id
    assert (message.status, message.attempts, message.sent_at) == (OutboxStatus.SENT, 3, later)


def test_a_closed_port_is_a_transient_failure(session):
    message = queue(session)
    mailer = SmtpMailer("127.0.0.1", port=free_port(), security="none", sender=MAIL_FROM, timeout=5)
    assert deliver(session, mailer) == DeliveryReport(retried=1)
    assert message.status is OutboxStatus.PENDING and message.last_error


def test_a_permanent_refusal_fails_at_once_and_does_not_hold_up_the_others(session, smtp):
    smtp.mailbox.refuse["nobody@example.org"] = "550 5.1.1 No such user here"
    refused = queue(session, "nobody@example.org")
    fine = queue(session, "ada@example.org")

    assert deliver(session, smtp.mailer()) == DeliveryReport(sent=1, failed=1)
    assert (refused.status, refused.attempts) == (OutboxStatus.FAILED, 1)
    assert refused.last_error == "550 5.1.1 No such user here"
    assert fine.status is OutboxStatus.SENT
    assert deliver(session, smtp.mailer(), T0 + timedelta(days=1)) == DeliveryReport()  # no retry loop
    assert [m["To"] for m in smtp.mailbox.messages] == ["ada@example.org"]


def test_a_4xx_refusal_is_retried_until_the_attempts_run_out(session, smtp):
    smtp.mailbox.refuse["ada@example.org"] = "450 4.2.0 Mailbox busy, try later"
    message = queue(session)
    now = T0
    for _ in range(2):
        assert deliver(session, smtp.mailer(), now, max_attempts=3) == DeliveryReport(retried=1)
        now = message.next_attempt_at
    assert deliver(session, smtp.mailer(), now, max_attempts=3) == DeliveryReport(failed=1)
    assert (message.status, message.attempts) == (OutboxStatus.FAILED, 3)
    assert message.last_error.startswith("450 4.2.0")
    assert smtp.mailbox.messages == []


def test_max_attempts_comes_from_the_configuration(session, smtp, app, monkeypatch):
    monkeypatch.setitem(app.config, "DSR_OUTBOX_MAX_ATTEMPTS", 1)
    smtp.mailbox.refuse["ada@example.org"] = "451 4.3.0 Try again later"
    message = queue(session)
    assert deliver(session, smtp.mailer()) == DeliveryReport(failed=1)
    assert message.status is OutboxStatus.FAILED


def test_a_crashed_workers_messages_are_taken_over_when_its_lease_ends(session, smtp):
    message = queue(session)
    assert claim_due(session, T0, 10, timedelta(minutes=5)) == [message.id]
    session.commit()  # …and the worker dies before sending

    assert deliver(session, smtp.mailer(), T0 + timedelta(minutes=4)) == DeliveryReport()  # lease still held
    assert deliver(session, smtp.mailer(), T0 + timedelta(minutes=5)) == DeliveryReport(sent=1)
    assert len(smtp.mailbox.messages) == 1
    assert (message.status, message.attempts) == (OutboxStatus.SENT, 2)


class OneConnectionMailer:
    """Sends every message of a run over one shared connection and remembers their Message-IDs."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def connect(self):
        return nullcontext(self)


class SlowMailer(OneConnectionMailer):
    """Takes 0.3 s per message."""

    def send(self, email) -> SendResult:
        time.sleep(0.3)
        self.sent.append(email.message_id)
        return SendResult.sent()


def test_a_worker_hands_back_what_it_cannot_send_within_its_lease(session):
    first, second = queue(session), queue(session)
    mailer = SlowMailer()
    # Half the lease is the sending budget: the first send uses it up, the second waits for the next run.
    assert deliver(session, mailer, lease=timedelta(seconds=0.4)) == DeliveryReport(sent=1)
    assert mailer.sent == [first.message_id]
    assert (second.status, second.attempts, second.claimed_until) == (OutboxStatus.PENDING, 0, None)
    assert deliver(session, mailer, lease=timedelta(seconds=10)) == DeliveryReport(sent=1)
    assert session.scalars(select(OutboxMessage.status)).all() == [OutboxStatus.SENT] * 2


class DyingMailer(OneConnectionMailer):
    """The process dies (an exception no handler catches) on the third message."""

    def send(self, email) -> SendResult:
        if len(self.sent) == 2:
            raise SystemExit("killed")
        self.sent.append(email.message_id)
        return SendResult.sent()


def test_a_worker_dying_mid_batch_repeats_none_of_what_it_sent(session, smtp):
    messages = [queue(session, f"person{i}@example.org") for i in range(4)]
    dying = DyingMailer()
    try:
        deliver_due(session, T0, dying, ConsoleSms())
    except SystemExit:
        session.rollback()  # what a dead process's open transaction amounts to
    assert len(dying.sent) == 2

    # Once the lease has run out another worker takes over: only the two that never went out are sent.
    assert deliver(session, smtp.mailer(), T0 + timedelta(minutes=10)) == DeliveryReport(sent=2)
    delivered = [m["Message-ID"] for m in smtp.mailbox.messages]
    assert sorted(dying.sent + delivered) == sorted(m.message_id for m in messages)
    assert session.scalars(select(OutboxMessage.status)).all() == [OutboxStatus.SENT] * 4


def test_a_worker_asked_to_stop_finishes_the_message_in_hand_and_hands_the_rest_back(session, smtp_server, mailbox):
    host, port, _ = smtp_server
    messages = [queue(session, f"person{n}@example.org") for n in range(3)]
    mailer = SmtpMailer(host, port=port, security="none", sender=MAIL_FROM, timeout=5)
    stop = lambda: len(mailbox.messages) > 0  # noqa: E731 - asked (SIGTERM) once the first message is at the server

    assert deliver(session, mailer, should_stop=stop) == DeliveryReport(sent=1)
    assert [m.status for m in messages] == [OutboxStatus.SENT, OutboxStatus.PENDING, OutboxStatus.PENDING]
    assert [m.attempts for m in messages] == [1, 0, 0]  # handed back unsent: no attempt counted, due at once
    assert deliver(session, mailer) == DeliveryReport(sent=2) and len(mailbox.messages) == 3

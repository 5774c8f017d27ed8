"""Queueing: messages are rendered from templates, encrypted at rest and wait in the outbox."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, text

from dsr.models import Channel, OutboxMessage, OutboxStatus
from dsr.notify.outbox import decrypt_bodies, queue_email, queue_sms
from tests.factories import make_request
from tests.notify.conftest import T0

NOTICE = {
    "heading": "Your data export is ready",
    "paragraphs": ["The passphrase is tangerine-umbrella.", "Tom & Jerry <b>not bold</b>"],
    "action_url": "https://privacy.acme-crm.example/download/abc",
    "action_label": "Download your data",
}


def test_an_email_waits_in_the_outbox_rendered_from_its_templates(session, app):
    request = make_request(session, T0)
    message = queue_email(session, T0, to=" ada@example.org ", template="notice", context=NOTICE, request=request)
    session.commit()

    stored = session.scalar(select(OutboxMessage))
    assert stored is message
    assert (stored.channel, stored.status, stored.attempts) == (Channel.EMAIL, OutboxStatus.PENDING, 0)
    assert stored.recipient == "ada@example.org"
    assert stored.subject == "Your data export is ready"
    assert stored.next_attempt_at == T0 and stored.request_id == request.id
    assert re.fullmatch(r"<[0-9a-f]{32}@dsr-desk\.invalid>", stored.message_id)
    body_text, body_html = decrypt_bodies(stored, app.extensions["dsr_cipher"])
    assert "The passphrase is tangerine-umbrella." in body_text
    assert "Download your data: https://privacy.acme-crm.example/download/abc" in body_text
    assert "Tom & Jerry <b>not bold</b>" in body_text  # plain text is not HTML-escaped
    assert "<h1>Your data export is ready</h1>" in body_html
    assert "Tom &amp; Jerry &lt;b&gt;not bold&lt;/b&gt;" in body_html  # …and HTML is
    assert 'href="https://privacy.acme-crm.example/download/abc"' in body_html
    assert '<html lang="en">' in body_html and "Acme" in body_html  # the layout, with the organisation


def test_message_ids_use_the_sender_domain_and_never_repeat(session, mail_settings):
    first = queue_email(session, T0, to="a@example.org", template="notice", context=NOTICE)
    second = queue_email(session, T0, to="a@example.org", template="notice", context=NOTICE)
    assert first.message_id.endswith("@acme-crm.example>")
    assert first.message_id != second.message_id


def test_bodies_are_encrypted_at_rest(session):
    queue_email(session, T0, to="ada@example.org", template="notice", context=NOTICE)
    queue_sms(session, T0, to="+353861234567", template="code", context={"code": "482913"})
    session.commit()
    rows = session.execute(text("SELECT body_text_encrypted, body_html_encrypted, subject FROM outbox_message"))
    raw = " ".join(str(value) for row in rows for value in row)
    assert "tangerine-umbrella" not in raw and "482913" not in raw
    assert "Your data export is ready" in raw  # the subject stays readable for the admin list


def test_an_sms_has_no_subject_and_reads_like_a_text(session, app):
    message = queue_sms(session, T0, to="+353861234567", template="code", context={"code": "482913"})
    assert (message.channel, message.subject, message.body_html_encrypted) == (Channel.SMS, "", None)
    body, html = decrypt_bodies(message, app.extensions["dsr_cipher"])
    assert body == "Acme CRM (demo): your verification code is 482913. It expires in 15 minutes."


@pytest.mark.parametrize("recipient", ["", "   ", "ada@example.org\r\nBcc: all@example.org", "x" * 255])
def test_unusable_recipients_are_refused(session, recipient):
    with pytest.raises(ValueError, match="recipient"):
        queue_email(session, T0, to=recipient, template="notice", context=NOTICE)


def test_nothing_is_queued_when_the_change_is_rolled_back(session):
    queue_email(session, T0, to="ada@example.org", template="notice", context=NOTICE)
    session.rollback()
    assert session.scalar(select(OutboxMessage)) is None

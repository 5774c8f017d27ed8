"""Queueing messages: rendered, encrypted and written to the outbox in the caller's transaction.

Nothing is sent here. The caller commits the change and its messages together; the delivery
worker (dsr.notify.delivery) sends them afterwards, so a rolled-back change sends nothing and a
mail server outage loses nothing.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from flask import current_app, render_template
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.errors import DomainError
from dsr.encryption import Cipher, current_cipher
from dsr.models import Channel, DataSubjectRequest, OutboxMessage, OutboxStatus
from dsr.models.insert import insert_now
from dsr.services.audit import record_event

FALLBACK_MESSAGE_ID_DOMAIN = "dsr-desk.invalid"


@dataclass(frozen=True)
class RenderedEmail:
    template: str
    subject: str
    text: str
    html: str


def render_email(template: str, context: dict[str, Any]) -> RenderedEmail:
    """Render templates/email/<template>.subject.txt, .txt and .html, as render_template would, but with
    the context processors run once for the three."""
    app = current_app._get_current_object()
    context = dict(context)
    app.update_template_context(context)

    def render(name: str) -> str:
        return app.jinja_env.get_template(f"email/{template}.{name}").render(context)

    subject = " ".join(render("subject.txt").split())
    return RenderedEmail(template, subject[:300], render("txt"), render("html"))


def queue_email(
    session: Session,
    now: datetime,
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    request: DataSubjectRequest | None = None,
) -> OutboxMessage:
    """Render the email's templates and queue it."""
    message = add_email(session, now, to=to, email=render_email(template, context), request=request)
    session.flush()
    return message


def add_email(
    session: Session, now: datetime, *, to: str, email: RenderedEmail, request: DataSubjectRequest | None = None
) -> OutboxMessage:
    """Queue an email rendered beforehand."""
    return _add(session, now, Channel.EMAIL, to, email.template, request, email.subject, email.text, email.html)


def queue_sms(
    session: Session,
    now: datetime,
    *,
    to: str,
    template: str,
    context: dict[str, Any],
    request: DataSubjectRequest | None = None,
) -> OutboxMessage:
    """Render templates/sms/<template>.txt and queue the text message."""
    body = render_template(f"sms/{template}.txt", **context).strip()
    message = _add(session, now, Channel.SMS, to, template, request, "", body, None)
    session.flush()
    return message


def queue_webhook(
    session: Session,
    now: datetime,
    *,
    url: str,
    payload: dict[str, Any],
    signing_key_ref: str | None,
    template: str,
    request: DataSubjectRequest | None = None,
) -> OutboxMessage:
    """Queue a signed JSON POST (the body is encrypted at rest like every message body)."""
    if len(url) > 1000 or not url.startswith(("https://", "http://")):
        raise ValueError("Not a usable webhook address.")
    body = json.dumps(payload, sort_keys=True)
    message = _add(session, now, Channel.WEBHOOK, url, template, request, "", body, None, signing_key_ref)
    session.flush()
    return message


def _add(
    session: Session,
    now: datetime,
    channel: Channel,
    to: str,
    template: str,
    request: DataSubjectRequest | None,
    subject: str,
    text: str,
    html: str | None,
    signing_key_ref: str | None = None,
) -> OutboxMessage:
    recipient = (to or "").strip()
    # A line break in an address would let it smuggle extra headers into the message.
    longest = 1000 if channel is Channel.WEBHOOK else 254
    if not recipient or len(recipient) > longest or any(char in recipient for char in "\r\n"):
        raise ValueError(f"Not a usable {channel} recipient.")
    if request is not None and request.id is None:
        session.flush()
    cipher = current_cipher()
    message = OutboxMessage(
        channel=channel,
        recipient=recipient,
        subject=subject,
        body_text_encrypted=cipher.encrypt_text(text),
        body_html_encrypted=cipher.encrypt_text(html) if html is not None else None,
        template=template,
        request_id=request.id if request is not None else None,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        message_id=new_message_id(current_app.config.get("DSR_MAIL_FROM")),
        created_at=now,
        signing_key_ref=signing_key_ref,
    )
    return insert_now(session, message)


def new_message_id(mail_from: str | None) -> str:
    """An RFC 5322 Message-ID in the sender's domain (no DNS lookup, unlike email.utils.make_msgid)."""
    domain = parseaddr(mail_from or "")[1].rpartition("@")[2] or FALLBACK_MESSAGE_ID_DOMAIN
    return f"<{secrets.token_hex(16)}@{domain}>"


def decrypt_bodies(message: OutboxMessage, cipher: Cipher) -> tuple[str, str | None]:
    """The text and HTML bodies; raises dsr.encryption.InvalidToken when the key is gone."""
    text = cipher.decrypt_text(message.body_text_encrypted)
    html = cipher.decrypt_text(message.body_html_encrypted) if message.body_html_encrypted is not None else None
    return text, html


def retry_message(session: Session, actor: Actor, now: datetime, message: OutboxMessage) -> None:
    """Give a failed message a fresh set of attempts, starting with the next delivery run."""
    if message.status is not OutboxStatus.FAILED:
        raise DomainError("Only failed messages can be retried.")
    message.status = OutboxStatus.PENDING
    message.attempts = 0
    message.next_attempt_at = now
    message.claimed_until = None
    record_event(session, actor, "outbox.retried", now, message.request, message=message.public_id)
    session.flush()

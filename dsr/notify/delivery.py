"""Delivering the outbox: claim due messages, send them outside the claiming transaction, record outcomes.

What it promises:

- Two workers never claim the same message. On PostgreSQL and MySQL/MariaDB the due rows are
  selected FOR UPDATE SKIP LOCKED; on SQLite each claim is a conditional UPDATE whose rowcount
  proves it. Either way the claim (status `sending`, a lease in `claimed_until`, one more attempt)
  is committed before anything is sent.
- A worker that dies mid-batch leaves its messages `sending`; once the lease runs out another
  worker reclaims them. A worker stops sending when half its lease is spent and hands the rest
  back, so a reclaim never overlaps a live send.
- Delivery is at-least-once across exactly one window: the mail server (or SMS provider) accepted
  a message and the worker crashed before the caller committed the result. The resend carries the
  Message-ID fixed at queue time (and the same Idempotency-Key for SMS), so receivers can drop it.
- Transient failures (connection refused, timeouts, 4xx) are retried with exponential backoff,
  30 s doubling to at most an hour, until max_attempts; permanent refusals (5xx) fail at once.

`deliver_due` runs the claim as a transaction of its own and commits it; the caller commits the
outcomes. Call it from a job or CLI command with a session that has nothing else pending (anything
pending is committed along with the claim), never from a view.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.orm import Session

from dsr.encryption import Cipher, InvalidToken, current_cipher
from dsr.models import Channel, OutboxMessage, OutboxStatus
from dsr.notify.mailers import Mailer, mailer_from_config
from dsr.notify.messages import BackendUnavailable, Outcome, OutgoingEmail, OutgoingSms, SendResult
from dsr.notify.outbox import decrypt_bodies
from dsr.notify.sms import SmsSender, sms_from_config
from dsr.notify.webhooks import OutgoingWebhook, WebhookSender

log = logging.getLogger(__name__)

# The backend factories live with their backends; re-exported here for the callers of deliver_due.
__all__ = ["DeliveryReport", "claim_due", "deliver_due", "mailer_from_config", "retry_delay", "sms_from_config"]

DEFAULT_MAX_ATTEMPTS = 12
DEFAULT_LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
# Dialects with SELECT … FOR UPDATE SKIP LOCKED (MariaDB from 10.6, MySQL from 8.0).
LOCKING_DIALECTS = ("postgresql", "mysql", "mariadb")


@dataclass(frozen=True)
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failed attempt, doubling each time, never more than an hour."""
    return min(FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 16), LONGEST_RETRY)


def deliver_due(
    session: Session,
    now: datetime,
    mailer: Mailer,
    sms: SmsSender,
    batch_size: int = 50,
    *,
    max_attempts: int | None = None,
    lease: timedelta = DEFAULT_LEASE,
    webhooks: WebhookSender | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> DeliveryReport:
    """Send up to batch_size due messages once, committing each outcome as soon as it is known, so a
    crash after a send can repeat at most that one message (with the same Message-ID), never the batch.

    max_attempts defaults to the DSR_OUTBOX_MAX_ATTEMPTS setting. Once `should_stop()` (the process is
    shutting down) the message being sent is finished and recorded, and the rest go back to the queue.
    """
    if max_attempts is None:
        max_attempts = current_app.config.get("DSR_OUTBOX_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS
    session.commit()  # the claim is a transaction of its own
    claimed = claim_due(session, now, batch_size, lease)
    session.commit()  # other workers must see the claim before anything is sent
    if not claimed:
        return DeliveryReport()
    rows = session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(claimed)).order_by(OutboxMessage.id))
    by_channel: dict[Channel, list[OutboxMessage]] = {channel: [] for channel in Channel}
    for row in rows:
        by_channel[row.channel].append(row)
    cipher = current_cipher()
    deadline = time.monotonic() + lease.total_seconds() / 2

    def go_on() -> bool:
        return time.monotonic() < deadline and not should_stop()

    settled: list[OutboxStatus] = []

    def settle(row: OutboxMessage, result: SendResult) -> None:
        settled.append(_settle(row, result, now, max_attempts))
        session.commit()

    _send_batch(by_channel[Channel.EMAIL], mailer, lambda row: _email(row, cipher), settle, go_on)
    if by_channel[Channel.WEBHOOK]:
        sender = webhooks or webhook_sender_from_app(now)
        _send_batch(by_channel[Channel.WEBHOOK], sender, lambda row: _webhook(row, cipher), settle, go_on)
    _send_batch(by_channel[Channel.SMS], sms, lambda row: _sms(row, cipher), settle, go_on)
    session.flush()
    return DeliveryReport(
        sent=settled.count(OutboxStatus.SENT),
        retried=settled.count(OutboxStatus.PENDING),
        failed=settled.count(OutboxStatus.FAILED),
    )


def claim_due(session: Session, now: datetime, limit: int, lease: timedelta) -> list[int]:
    """Mark up to `limit` due messages `sending` for this worker; returns their ids (not yet committed)."""
    due: list[tuple[ColumnElement[bool], Any]] = [
        # A worker died holding these: its lease has run out.
        (and_(OutboxMessage.status == OutboxStatus.SENDING, OutboxMessage.claimed_until <= now), OutboxMessage.id),
        (
            and_(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now),
            OutboxMessage.next_attempt_at,
        ),
    ]
    claim = {
        "status": OutboxStatus.SENDING,
        "claimed_until": now + lease,
        "attempts": OutboxMessage.attempts + 1,
    }
    claimed: list[int] = []
    locking = session.get_bind().dialect.name in LOCKING_DIALECTS
    for condition, order in due:
        if len(claimed) >= limit:
            break
        query = select(OutboxMessage.id, OutboxMessage.attempts).where(condition).order_by(order, OutboxMessage.id)
        query = query.limit(limit - len(claimed))
        if locking:
            ids = [row.id for row in session.execute(query.with_for_update(skip_locked=True))]
            if ids:
                session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(claim))
            claimed += ids
            continue
        for row in session.execute(query).all():
            # The attempts counter rises with every claim, so it proves nobody claimed the row meanwhile.
            won = session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id == row.id, OutboxMessage.attempts == row.attempts, condition)
                .values(claim)
            )
            if won.rowcount == 1:
                claimed.append(row.id)
    return claimed


def _send_batch(
    rows: Sequence[OutboxMessage],
    backend: Mailer | SmsSender,
    build: Callable[[OutboxMessage], Any],
    settle: Callable[[OutboxMessage, SendResult], None],
    go_on: Callable[[], bool],
) -> None:
    """Send rows over one backend connection while go_on(); the rest, and what the connection could not
    take, are retried later."""
    waiting = list(rows)
    if not waiting or not go_on():
        _hand_back(waiting)
        return
    try:
        with backend.connect() as connection:
            while waiting and go_on():
                settle(waiting[0], _send_one(connection, waiting[0], build))
                waiting.pop(0)
    except BackendUnavailable as exc:
        for row in waiting:
            settle(row, SendResult.transient(str(exc)[:500]))
        return
    _hand_back(waiting)


def _hand_back(rows: Sequence[OutboxMessage]) -> None:
    for row in rows:  # out of lease time, or stopping: back to the queue, attempt not counted
        row.status, row.claimed_until, row.attempts = OutboxStatus.PENDING, None, row.attempts - 1


def _send_one(connection: Any, row: OutboxMessage, build: Callable[[OutboxMessage], Any]) -> SendResult:
    try:
        message = build(row)
    except InvalidToken:
        return SendResult.permanent("the body cannot be decrypted with the configured encryption keys")
    try:
        return connection.send(message)
    except BackendUnavailable:
        raise
    except Exception as exc:  # a bug must not strand the batch; the name is logged, never the data
        log.warning("outbox: unexpected %s while sending a message", type(exc).__name__)
        return SendResult.transient(f"unexpected error: {type(exc).__name__}")


def _settle(row: OutboxMessage, result: SendResult, now: datetime, max_attempts: int) -> OutboxStatus:
    """Record one send's outcome; returns the message's new status."""
    row.claimed_until = None
    if result.outcome is Outcome.SENT:
        row.status, row.sent_at = OutboxStatus.SENT, now
    elif result.outcome is Outcome.TRANSIENT and row.attempts < max_attempts:
        row.status, row.next_attempt_at = OutboxStatus.PENDING, now + retry_delay(row.attempts)
    else:
        row.status = OutboxStatus.FAILED
    if result.error:
        row.last_error = result.error[:500]
    return row.status


def _email(row: OutboxMessage, cipher: Cipher) -> OutgoingEmail:
    text, html = decrypt_bodies(row, cipher)
    return OutgoingEmail(row.message_id, row.recipient, row.subject, text, html, row.created_at)


def _webhook(row: OutboxMessage, cipher: Cipher) -> OutgoingWebhook:
    text, _ = decrypt_bodies(row, cipher)
    return OutgoingWebhook(row.message_id, row.recipient, text.encode(), row.signing_key_ref)


def webhook_sender_from_app(now: datetime) -> WebhookSender:
    """Secrets come from the data inventory (webhook systems) and the admin's webhook subscribers."""
    from dsr.extensions import db
    from dsr.services.webhook_subscribers import signing_secret
    from dsr.sources.webhook import webhook_secret
    from dsr.web.sessions import dataset

    def lookup(ref: str) -> bytes | None:
        kind, _, key = ref.partition(":")
        if kind == "system":
            system = next((s for s in dataset().systems if s.key == key), None)
            return webhook_secret(system) if system is not None and system.secret else None
        if kind == "subscriber":
            return signing_secret(db.session, current_cipher(), key)
        return None

    return WebhookSender(lookup, clock=lambda: now)


def _sms(row: OutboxMessage, cipher: Cipher) -> OutgoingSms:
    text, _ = decrypt_bodies(row, cipher)
    return OutgoingSms(row.message_id, row.recipient, text)

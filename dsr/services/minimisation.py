"""Minimising closed requests once their record-keeping period is over (24 months by default,
CCPA §7101): identifiers become keyed hashes, free text and messages are cleared, verification
codes, message bodies and attached files go. The request's dates, type, outcome and the audit
trail stay, so the register and the reports still add up."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.clock import add_months
from dsr.models import DataSubjectRequest, OutboxMessage, RequestMessage, VerificationChallenge
from dsr.services.attachments import UploadStore, delete_for_request
from dsr.services.audit import record_event

MINIMISED = "[minimised]"


def _hash(key: bytes, value: str) -> str:
    return "sha256:" + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:40]


def minimise_closed(
    session: Session,
    now: datetime,
    months: int,
    key: bytes,
    batch_size: int = 500,
    uploads: UploadStore | None = None,
) -> int:
    """Minimise up to batch_size requests closed more than `months` ago; returns how many.

    Attached files are deleted from `uploads` at once: if the transaction then fails, the next run
    deletes their rows (a missing file is no loss at that point)."""
    cutoff = datetime.combine(add_months(now.date(), -months), now.timetz())
    due = session.scalars(
        select(DataSubjectRequest)
        .where(
            DataSubjectRequest.is_open.is_(False),
            DataSubjectRequest.closed_at < cutoff,
            DataSubjectRequest.minimised_at.is_(None),
        )
        .order_by(DataSubjectRequest.closed_at)
        .limit(batch_size)
    ).all()
    for request in due:
        request.requester_name = MINIMISED
        request.search_name = ""
        request.requester_email = _hash(key, request.requester_email)
        request.requester_phone = _hash(key, request.requester_phone)[:32] if request.requester_phone else None
        request.subject_name = MINIMISED if request.subject_name else None
        request.details = ""
        request.form_data = {}
        request.extension_reason = MINIMISED if request.extension_reason else None
        request.minimised_at = now
        files = delete_for_request(session, request, uploads)
        session.execute(update(RequestMessage).where(RequestMessage.request_id == request.id).values(body=MINIMISED))
        session.execute(delete(VerificationChallenge).where(VerificationChallenge.request_id == request.id))
        session.execute(
            delete(OutboxMessage).where(OutboxMessage.request_id == request.id, OutboxMessage.sent_at.is_not(None))
        )
        record_event(
            session, Actor.system("minimisation"), "request.minimised", now, request, months=months, files=files or None
        )
    session.flush()
    return len(due)

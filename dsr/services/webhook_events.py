"""Events for webhook subscribers, queued in the outbox in the transaction of the change they report.

Each kind of event is emitted from one place: request status changes from
dsr.services.requests.transition, consent changes from dsr.services.consent.record_consent.
Payloads say what changed, never who the requester is: a request is named by its reference; a
person by DSR Desk's opaque id, plus their verified email and phone only for subscribers an admin
allowed to receive identifiers.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dsr.domain.api import WebhookEvent
from dsr.domain.lifecycle import Status
from dsr.models import ConsentEvent, DataSubject, DataSubjectRequest, WebhookDelivery, WebhookSubscriber
from dsr.notify.outbox import queue_webhook
from dsr.services.consent_state import consent_granted
from dsr.services.subjects import ConsentSetup, identities_of
from dsr.services.webhook_subscribers import subscribers_for


def new_event_id() -> str:
    return f"evt_{secrets.token_hex(12)}"


def request_status_changed(
    session: Session,
    now: datetime,
    request: DataSubjectRequest,
    previous: Status,
    action: str,
    rejection_reason: str | None = None,
) -> None:
    """Confidential requests (a colleague's own, an admin's export) are not announced, as the API hides them."""
    if request.confidential:
        return
    wanted = subscribers_for(session, WebhookEvent.REQUEST_STATUS_CHANGED)
    if not wanted:
        return
    data = {
        "reference": request.reference,
        "request_type": request.request_type.value,
        "jurisdiction": request.jurisdiction,
        "source": request.source,
        "previous_status": previous.value,
        "status": request.status.value,
        "action": action,
        "rejection_reason": rejection_reason if request.status is Status.REJECTED else None,
        "due_on": request.due_on.isoformat() if request.due_on else None,
    }
    _queue(session, now, wanted, WebhookEvent.REQUEST_STATUS_CHANGED, data, request, lambda _: {})


def consent_changed(
    session: Session,
    now: datetime,
    setup: ConsentSetup,
    subject: DataSubject,
    event: ConsentEvent,
    request: DataSubjectRequest | None,
) -> None:
    wanted = subscribers_for(session, WebhookEvent.CONSENT_CHANGED)
    if not wanted:
        return
    purpose = next((t.purpose for t in setup.profile.consent_topics if t.key == event.topic), None)
    current = consent_granted(session, subject, event.topic)
    data = {
        "subject": subject.public_id,
        "topic": event.topic,
        "purpose": purpose,
        "granted": event.granted,
        "occurred_at": event.occurred_at.isoformat(),
        "source": event.source.value,
        # A late event can be older than the one deciding the topic: this is the state after recording it.
        "current_state": {True: "granted", False: "withdrawn", None: "no_record"}[current],
        "request_reference": request.reference if request is not None else None,
    }

    def identifiers(subscriber: WebhookSubscriber) -> dict[str, Any]:
        if not subscriber.include_identifiers:
            return {}
        found = identities_of(subject, setup.keys)
        return {
            "identifiers": {
                "emails": sorted({i.email for i in found if i.email}),
                "phones": sorted({i.phone for i in found if i.phone}),
            }
        }

    _queue(session, now, wanted, WebhookEvent.CONSENT_CHANGED, data, request, identifiers)


def _queue(
    session: Session,
    now: datetime,
    wanted: list[WebhookSubscriber],
    kind: WebhookEvent,
    data: dict[str, Any],
    request: DataSubjectRequest | None,
    extra: Callable[[WebhookSubscriber], dict[str, Any]],
) -> None:
    event_id = new_event_id()
    for subscriber in wanted:
        payload = {
            "id": event_id,
            "type": kind.value,
            "created_at": now.isoformat(),
            "data": {**data, **extra(subscriber)},
        }
        message = queue_webhook(
            session,
            now,
            url=subscriber.url,
            payload=payload,
            signing_key_ref=subscriber.signing_key_ref,
            template=kind.value,
            request=request,
        )
        session.add(
            WebhookDelivery(
                subscriber_id=subscriber.id, message_id=message.id, event=kind.value, event_id=event_id, created_at=now
            )
        )
    session.flush()

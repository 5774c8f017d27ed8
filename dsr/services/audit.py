"""Writing audit events in the same transaction as the change they describe (chained at commit)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.models import AuditEvent, DataSubjectRequest
from dsr.services import audit_chain  # noqa: F401  (seals each transaction's events into the hash chain)


def record_event(
    session: Session,
    actor: Actor,
    action: str,
    now: datetime,
    request: DataSubjectRequest | None = None,
    **details: Any,
) -> AuditEvent:
    event = AuditEvent(
        occurred_at=now,
        actor_kind=actor.kind,
        actor_user_id=actor.user_id,
        actor_label=actor.label,
        request_id=request.id if request is not None else None,
        action=action,
        details={key: value for key, value in details.items() if value is not None},
    )
    session.add(event)
    return event

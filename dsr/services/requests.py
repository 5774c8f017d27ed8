"""Creating requests and moving them through the lifecycle table, with an audit event each time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.clock import LegalClock
from dsr.domain.lifecycle import CLOSED_STATUSES, Action, Status, next_status
from dsr.domain.requests import RequestType
from dsr.models import DataSubjectRequest
from dsr.models.insert import insert_now
from dsr.models.request import new_reference
from dsr.services import webhook_events
from dsr.services.audit import record_event
from dsr.services.deadlines import refresh_deadline


@dataclass(frozen=True)
class NewRequest:
    request_type: RequestType
    jurisdiction: str
    requester_name: str
    requester_email: str
    requester_phone: str | None = None
    details: str = ""
    form_data: dict[str, Any] = field(default_factory=dict)
    is_agent: bool = False
    subject_name: str | None = None
    gpc: bool = False
    source: str = "web"  # "web", "api" or "admin_export" (DataSubjectRequest.source)


_TAKEN = select(exists().where(DataSubjectRequest.reference == bindparam("reference")))  # built once: every intake


class ReferenceTaken(Exception):  # noqa: N818  (a condition to retry on, not a bug)
    """The reference drawn for a new request is taken: roll back and file it again with a new one. With
    32^8 references a year, one draw in about a million collides once a year holds a million requests."""


# How the unique constraint on dsr_request.reference names itself when it refuses a row: SQLite, then
# PostgreSQL and MariaDB (which name the constraint, see the initial migration).
_REFERENCE_TAKEN = ("dsr_request.reference", "uq_dsr_request_reference")


def unused_reference(session: Session, now: datetime) -> str:
    while True:
        reference = new_reference(now.year)
        if not session.connection().scalar(_TAKEN, {"reference": reference}):  # Core: nothing to autoflush
            return reference


def submit_request(
    session: Session, actor: Actor, now: datetime, new: NewRequest, clock: LegalClock
) -> DataSubjectRequest:
    return add_request(session, actor, now, build_request(session, now, new, clock))


def build_request(
    session: Session,
    now: datetime,
    new: NewRequest,
    clock: LegalClock,
    *,
    acknowledged: bool = False,
    check_reference: bool = True,
) -> DataSubjectRequest:
    """The row for a new request, with its due date, not yet added: this reads (the rules and, when
    `check_reference`, that its reference is free) but writes nothing. `acknowledged` when what the
    caller sends next confirms receipt. Without `check_reference` the unique constraint is the check:
    adding the request raises ReferenceTaken, for the caller to roll back and retry (the intake does)."""
    request = DataSubjectRequest(
        reference=unused_reference(session, now) if check_reference else new_reference(now.year),
        request_type=new.request_type,
        status=Status.SUBMITTED,
        jurisdiction=new.jurisdiction,
        requester_name=new.requester_name.strip(),
        search_name=new.requester_name.strip().lower(),
        requester_email=new.requester_email.strip().lower(),
        requester_phone=(new.requester_phone or "").strip() or None,
        details=new.details,
        form_data=new.form_data,
        is_agent=new.is_agent,
        subject_name=new.subject_name if new.is_agent else None,
        gpc=new.gpc,
        source=new.source,
        received_at=now,
        acknowledged_at=now if acknowledged else None,
    )
    # Before the row is added: one INSERT carries the due date, and a new request has no pauses to load.
    refresh_deadline(session, request, clock, now)
    return request


def add_request(session: Session, actor: Actor, now: datetime, request: DataSubjectRequest) -> DataSubjectRequest:
    """Insert a built request (its id is what everything else refers to) and record its submission."""
    try:
        insert_now(session, request)  # one INSERT: filing is the hottest write there is
    except IntegrityError as refused:
        if any(mark in str(refused.orig) for mark in _REFERENCE_TAKEN):
            raise ReferenceTaken(request.reference) from refused
        raise
    record_event(
        session,
        actor,
        "request.submitted",
        now,
        request,
        type=request.request_type.value,
        jurisdiction=request.jurisdiction,
        agent=request.is_agent or None,
    )
    return request


def transition(
    session: Session, actor: Actor, now: datetime, request: DataSubjectRequest, action: Action, **details: Any
) -> DataSubjectRequest:
    """Apply one lifecycle move; IllegalTransition when the table has none for this state."""
    previous = request.status
    request.status = next_status(previous, action)
    request.is_open = request.status.is_open
    if action is Action.VERIFY:
        request.verified_at = now
    if request.status in CLOSED_STATUSES:
        request.closed_at = now
    elif previous in CLOSED_STATUSES:
        request.closed_at = None
    record_event(
        session,
        actor,
        f"request.{action.value}",
        now,
        request,
        **{"from": previous.value, "to": request.status.value},
        **details,
    )
    session.flush()
    webhook_events.request_status_changed(session, now, request, previous, action.value, details.get("reason"))
    return request


def expire_unverified(session: Session, now: datetime, window_days: int, batch_size: int = 500) -> int:
    """Close requests whose identity was not confirmed within the window; returns how many."""
    cutoff = now - timedelta(days=window_days)
    stale = session.scalars(
        select(DataSubjectRequest)
        .where(DataSubjectRequest.status == Status.SUBMITTED, DataSubjectRequest.received_at < cutoff)
        .order_by(DataSubjectRequest.id)
        .limit(batch_size)
    ).all()
    for request in stale:
        transition(session, Actor.system("scheduler"), now, request, Action.EXPIRE, window_days=window_days)
    return len(stale)

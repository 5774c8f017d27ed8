"""Keeping a request's due date in step with the legal clock: pause, resume, extend, re-home."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.clock import Deadline, LegalClock
from dsr.domain.errors import ClockError
from dsr.models import DataSubjectRequest, RequestPause
from dsr.services.audit import record_event
from dsr.services.rules import rule_for


def deadline_of(session: Session, request: DataSubjectRequest, clock: LegalClock, now: datetime) -> Deadline:
    rule = rule_for(session, request.jurisdiction, request.request_type.value)
    return clock.deadline(rule, request.received_at, now, request.clock_pauses(), request.is_extended)


def refresh_deadline(session: Session, request: DataSubjectRequest, clock: LegalClock, now: datetime) -> Deadline:
    """Recompute and store the due date (kept on the row so the queue can sort by it)."""
    deadline = deadline_of(session, request, clock, now)
    request.due_on = deadline.due
    request.acknowledge_by = deadline.acknowledge_by
    return deadline


def pause_clock(
    session: Session, actor: Actor, now: datetime, request: DataSubjectRequest, clock: LegalClock, reason: str
) -> None:
    rule = rule_for(session, request.jurisdiction, request.request_type.value)
    clock.check_pause(rule, request.clock_pauses())
    request.pauses.append(RequestPause(started_at=now, reason=reason))
    refresh_deadline(session, request, clock, now)
    record_event(session, actor, "clock.paused", now, request, reason=reason)
    session.flush()


def resume_clock(session: Session, actor: Actor, now: datetime, request: DataSubjectRequest, clock: LegalClock) -> None:
    clock.check_resume(request.clock_pauses())
    open_pause = next(p for p in request.pauses if p.ended_at is None)
    open_pause.ended_at = now
    deadline = refresh_deadline(session, request, clock, now)
    record_event(session, actor, "clock.resumed", now, request, due_on=deadline.due.isoformat())
    session.flush()


def extend_deadline(
    session: Session, actor: Actor, now: datetime, request: DataSubjectRequest, clock: LegalClock, reason: str
) -> Deadline:
    """Take the one extension the jurisdiction allows; the caller queues the notice to the requester."""
    if not reason.strip():
        raise ClockError("An extension needs a reason the requester can read.")
    rule = rule_for(session, request.jurisdiction, request.request_type.value)
    clock.check_extension(rule, deadline_of(session, request, clock, now), now)
    request.extended_at = now
    request.extension_reason = reason.strip()
    deadline = refresh_deadline(session, request, clock, now)
    record_event(session, actor, "clock.extended", now, request, due_on=deadline.due.isoformat())
    session.flush()
    return deadline


def change_jurisdiction(
    session: Session, actor: Actor, now: datetime, request: DataSubjectRequest, clock: LegalClock, jurisdiction: str
) -> Deadline:
    """Re-home a request; an extension the new jurisdiction does not allow is dropped."""
    previous = request.jurisdiction
    request.jurisdiction = jurisdiction
    if request.is_extended and rule_for(session, jurisdiction, request.request_type.value).extension is None:
        request.extended_at = None
    deadline = refresh_deadline(session, request, clock, now)
    record_event(
        session,
        actor,
        "request.jurisdiction_changed",
        now,
        request,
        **{"from": previous, "to": jurisdiction, "due_on": deadline.due.isoformat()},
    )
    session.flush()
    return deadline

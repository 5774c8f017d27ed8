"""Restriction and objection: flags per person and purpose, set when staff complete the request and
lifted only by staff with a reason. Each change is audited and propagated like consent."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor, ActorKind
from dsr.domain.consent import FlagKind
from dsr.domain.errors import DomainError
from dsr.models import DataSubject, DataSubjectRequest, ProcessingFlag, PropagationScope
from dsr.services.audit import record_event
from dsr.services.consent_state import flags_of
from dsr.services.propagation import queue_propagation
from dsr.services.subjects import ConsentSetup


def record_flags(
    session: Session,
    actor: Actor,
    now: datetime,
    setup: ConsentSetup,
    subject: DataSubject,
    kind: FlagKind,
    purposes: Iterable[str],
    request: DataSubjectRequest | None = None,
) -> list[ProcessingFlag]:
    """Put each purpose under restriction (or record the objection to it); one already in force stays as it is."""
    known = {p.key for p in setup.profile.purposes}
    in_force = {(f.kind, f.purpose) for f in flags_of(session, subject, in_force_only=True)}
    added = []
    for purpose in dict.fromkeys(purposes):
        if purpose not in known:
            raise DomainError(f"{purpose!r} is not a purpose of {setup.profile.name}.")
        if (kind, purpose) in in_force:
            continue
        flag = ProcessingFlag(
            subject_id=subject.id,
            kind=kind,
            purpose=purpose,
            request_id=request.id if request is not None else None,
            set_at=now,
            set_by_id=actor.user_id if actor.kind is ActorKind.STAFF else None,
        )
        session.add(flag)
        session.flush()
        record_event(
            session,
            actor,
            "processing.flag_set",
            now,
            request,
            subject=subject.public_id,
            kind=kind.value,
            purpose=purpose,
        )
        queue_propagation(session, now, setup.dataset, subject, PropagationScope.RESTRICTION, purpose)
        added.append(flag)
    return added


def lift_flag(
    session: Session, actor: Actor, now: datetime, setup: ConsentSetup, flag: ProcessingFlag, reason: str
) -> None:
    """Staff end a restriction or objection, saying why (the grounds no longer apply, legal claims…)."""
    if actor.kind is not ActorKind.STAFF:
        raise DomainError("Only staff can lift a restriction or objection.")
    if not flag.in_force:
        raise DomainError("This flag was already lifted.")
    if len(reason.strip()) < 10:
        raise DomainError("Say why it is lifted (at least a sentence).")
    flag.lifted_at, flag.lifted_by_id, flag.lift_reason = now, actor.user_id, reason.strip()
    session.flush()
    subject = session.get(DataSubject, flag.subject_id)
    record_event(
        session,
        actor,
        "processing.flag_lifted",
        now,
        flag.request,
        subject=subject.public_id,
        kind=flag.kind.value,
        purpose=flag.purpose,
    )
    queue_propagation(session, now, setup.dataset, subject, PropagationScope.RESTRICTION, flag.purpose)


def flag_of(session: Session, subject: DataSubject, public_id: str) -> ProcessingFlag | None:
    return session.scalar(
        select(ProcessingFlag).where(ProcessingFlag.subject_id == subject.id, ProcessingFlag.public_id == public_id)
    )

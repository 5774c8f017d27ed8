"""Reading the audit log for admins: filters, newest-first keyset pages, CSV rows, verification records."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor, ActorKind
from dsr.models import AuditEvent, DataSubjectRequest, StaffUser
from dsr.services.audit import record_event
from dsr.services.audit_verify import ChainReport
from dsr.services.timeline import EVENT_TEXT

E = AuditEvent
PAGE_SIZE = 50
VERIFIED = "audit.verified"


@dataclass(frozen=True)
class AuditFilter:
    action: str = ""  # an action ("request.complete") or a prefix ending in "." ("request.")
    actor: str = ""  # a staff member's public_id, or "kind:<ActorKind>"
    reference: str = ""
    start: datetime | None = None  # inclusive
    end: datetime | None = None  # exclusive

    def as_details(self) -> dict:
        """The filters, as recorded in the export's own audit event."""
        return {
            key: value
            for key, value in {
                "action": self.action,
                "actor": self.actor,
                "reference": self.reference,
                "from": self.start.isoformat() if self.start else "",
                "until": self.end.isoformat() if self.end else "",
            }.items()
            if value
        }


@dataclass(frozen=True)
class LogEntry:
    id: int
    occurred_at: datetime
    actor_kind: ActorKind
    actor_label: str
    action: str
    description: str
    reference: str | None
    details: dict
    chain_seq: int | None
    entry_hash: str | None


@dataclass(frozen=True)
class LogPage:
    entries: list[LogEntry]
    older_than: int | None  # the id to continue from, when there is more


def describe(action: str) -> str:
    return EVENT_TEXT.get(action, action)


def filtered(session: Session, wanted: AuditFilter) -> Select | None:
    """The matching events, joined to their request's reference; None when a filter matches nothing."""
    query = select(E, DataSubjectRequest.reference).outerjoin(DataSubjectRequest, DataSubjectRequest.id == E.request_id)
    if wanted.action.endswith("."):
        # A range on ix_audit_event_action_id; the LIKE keeps it exact under any collation.
        query = query.where(E.action >= wanted.action, E.action < wanted.action[:-1] + "/")
        query = query.where(E.action.like(_escape(wanted.action) + "%", escape="\\"))
    elif wanted.action:
        query = query.where(E.action == wanted.action)
    if wanted.actor.startswith("kind:"):
        kind = wanted.actor.removeprefix("kind:")
        if kind not in ActorKind.__members__.values():
            return None
        query = query.where(E.actor_kind == ActorKind(kind))
    elif wanted.actor:
        user_id = session.scalar(select(StaffUser.id).where(StaffUser.public_id == wanted.actor))
        if user_id is None:
            return None
        query = query.where(E.actor_user_id == user_id)
    if wanted.reference:
        request_id = session.scalar(
            select(DataSubjectRequest.id).where(DataSubjectRequest.reference == wanted.reference.strip().upper())
        )
        if request_id is None:
            return None
        query = query.where(E.request_id == request_id)
    if wanted.start:
        query = query.where(E.occurred_at >= wanted.start)
    if wanted.end:
        query = query.where(E.occurred_at < wanted.end)
    return query


def log_page(session: Session, wanted: AuditFilter, older_than: int | None = None, size: int = PAGE_SIZE) -> LogPage:
    query = filtered(session, wanted)
    if query is None:
        return LogPage([], None)
    if older_than is not None:
        query = query.where(E.id < older_than)
    rows = session.execute(query.order_by(E.id.desc()).limit(size + 1)).all()
    entries = [_entry(event, reference) for event, reference in rows[:size]]
    return LogPage(entries, entries[-1].id if len(rows) > size else None)


def all_entries(session: Session, wanted: AuditFilter) -> Iterator[LogEntry]:
    """Every matching event, newest first, streamed in batches (for the CSV export)."""
    query = filtered(session, wanted)
    if query is None:
        return
    for event, reference in session.execute(query.order_by(E.id.desc()).execution_options(yield_per=1000)):
        yield _entry(event, reference)


CSV_COLUMNS = [
    "id",
    "occurred_at_utc",
    "actor_kind",
    "actor",
    "action",
    "description",
    "request",
    "details",
    "chain_position",
    "hash",
]


def csv_row(entry: LogEntry) -> list[str]:
    return [
        str(entry.id),
        entry.occurred_at.isoformat(timespec="microseconds"),
        entry.actor_kind.value,
        entry.actor_label,
        entry.action,
        entry.description,
        entry.reference or "",
        json.dumps(entry.details, sort_keys=True, ensure_ascii=False),
        "" if entry.chain_seq is None else str(entry.chain_seq),
        entry.entry_hash or "",
    ]


def record_verification(session: Session, actor: Actor, now: datetime, report: ChainReport) -> None:
    broken = report.broken
    record_event(
        session,
        actor,
        VERIFIED,
        now,
        result="intact" if broken is None else "broken",
        events=report.checked,
        head_hash=report.head_hash if broken is None else None,
        breach=broken.breach.value if broken else None,
        event_id=broken.event_id if broken else None,
        explanation=broken.describe() if broken else None,
    )


def last_verification(session: Session) -> AuditEvent | None:
    return session.scalar(select(E).where(E.action == VERIFIED).order_by(E.id.desc()).limit(1))


def _entry(event: AuditEvent, reference: str | None) -> LogEntry:
    return LogEntry(
        event.id,
        event.occurred_at,
        event.actor_kind,
        event.actor_label,
        event.action,
        describe(event.action),
        reference,
        event.details or {},
        event.chain_seq,
        event.entry_hash,
    )


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

"""Correction requests: the requester's proposals, matched by staff to fields of the systems, shown
against the current values, approved or rejected one by one with a reason, then written to each
system in one transaction; the recipients who received that data (GDPR Art. 19) become tasks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.dataset import Dataset
from dsr.domain.errors import DomainError
from dsr.domain.profile import OrganisationProfile
from dsr.domain.requests import RequestType
from dsr.fulfilment.correction import Correction, CorrectionError, FieldRef, apply_corrections, correctable_fields
from dsr.models import CorrectionItem, DataSubjectRequest, Decision, FulfilmentTask, TaskStatus
from dsr.services.audit import record_event
from dsr.services.fulfilment import identities_of, tasks_of


def items_of(session: Session, request: DataSubjectRequest) -> list[CorrectionItem]:
    """The proposals, created from the intake form the first time they are asked for."""
    items = list(
        session.scalars(
            select(CorrectionItem).where(CorrectionItem.request_id == request.id).order_by(CorrectionItem.id)
        )
    )
    if not items and request.request_type is RequestType.CORRECTION:
        for pair in request.form_data.get("corrections", []):
            item = CorrectionItem(request_id=request.id, asked_field=pair["field"][:200], new_value=pair["value"])
            session.add(item)
            items.append(item)
        session.flush()
    return items


def field_choices(dataset: Dataset) -> list[FieldRef]:
    return correctable_fields(dataset)


def decide(
    session: Session,
    actor: Actor,
    now: datetime,
    item: CorrectionItem,
    approve: bool,
    reason: str,
    target: FieldRef | None,
    value: str,
) -> None:
    if item.applied_at is not None:
        raise DomainError("This change has already been written to the systems.")
    if approve and target is None:
        raise DomainError("Choose which field of which system the change applies to.")
    if not approve and len(reason.strip()) < 5:
        raise DomainError("Say why the change is rejected: the requester will read it.")
    item.decision = Decision.APPROVED if approve else Decision.REJECTED
    item.reason = reason.strip() or None
    item.new_value = value if approve else item.new_value
    item.system_key, item.table_name, item.column_name = (
        (target.system, target.table, target.column) if target else (None, None, None)
    )
    item.decided_by_id, item.decided_at = actor.user_id, now
    record_event(
        session,
        actor,
        "correction.decided",
        now,
        item.request,
        decision=item.decision.value,
        field=f"{item.system_key}.{item.table_name}.{item.column_name}" if target else None,
    )
    session.flush()


def apply_approved(
    session: Session,
    actor: Actor,
    now: datetime,
    request: DataSubjectRequest,
    dataset: Dataset,
    profile: OrganisationProfile,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Write every approved, unwritten change (all or nothing per system); returns how many."""
    items = [i for i in items_of(session, request) if i.decision is Decision.APPROVED and i.applied_at is None]
    if not items:
        raise DomainError("There are no approved changes to write.")
    changes = [Correction(i.system_key, i.table_name, i.column_name, i.new_value) for i in items]
    try:
        result = apply_corrections(dataset, identities_of(request), changes, environ)
    except CorrectionError as refused:
        raise DomainError("Nothing was written: " + " ".join(refused.problems)) from None
    if not result.ok:
        raise DomainError("Nothing was written to " + "; ".join(f"{k}: {v}" for k, v in result.failed.items()))
    for item in items:
        item.applied_at = now
    _recipient_tasks(session, now, request, dataset, profile, items)
    record_event(
        session,
        actor,
        "correction.applied",
        now,
        request,
        rows={f"{s}.{t}": n for s, tables in result.rows_changed.items() for t, n in tables.items()},
    )
    session.flush()
    return len(items)


def _recipient_tasks(session, now, request, dataset, profile, items) -> None:
    purposes = set()
    for item in items:
        system = next(s for s in dataset.systems if s.key == item.system_key)
        table = next(t for t in system.tables if t.name == item.table_name)
        purposes |= {f.purpose for f in table.fields if f.name == item.column_name}
    for recipient in profile.recipients:
        if purposes & set(recipient.purposes):
            session.add(
                FulfilmentTask(
                    request_id=request.id,
                    system_key=f"recipient:{recipient.key}",
                    created_at=now,
                    title=f"Tell {recipient.label} about the correction",
                    instructions="They received this data (GDPR Art. 19). Pass on the corrected values, or note why "
                    "that is impossible or would take disproportionate effort.",
                )
            )


def ensure_done(session: Session, request: DataSubjectRequest) -> list[CorrectionItem]:
    """Before a correction request completes: every proposal decided, approved ones written, recipients told."""
    items = items_of(session, request)
    if any(i.decision is Decision.PENDING for i in items):
        raise DomainError("Approve or reject every proposed change first.")
    if any(i.decision is Decision.APPROVED and i.applied_at is None for i in items):
        raise DomainError("Write the approved changes to the systems first.")
    open_tasks = [t.title for t in tasks_of(session, request) if t.status is TaskStatus.OPEN]
    if open_tasks:
        raise DomainError(f"Confirm these first: {'; '.join(open_tasks)}.")
    return items


def outcome_text(items: list[CorrectionItem]) -> str:
    """For the requester: each proposal and what became of it (their own proposed value, no system data)."""
    lines = []
    for item in items:
        if item.decision is Decision.APPROVED and item.applied_at:
            lines.append(f"- {item.asked_field}: corrected to “{item.new_value}”.")
        elif item.decision is Decision.REJECTED:
            lines.append(f"- {item.asked_field}: not changed. {item.reason}")
        else:
            lines.append(f"- {item.asked_field}: still being reviewed.")
    return "\n".join(lines)

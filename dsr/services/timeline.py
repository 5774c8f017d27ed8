"""A request's history for staff: audit events and messages, oldest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dsr.domain.lifecycle import Status
from dsr.domain.requests import RequestType, jurisdiction_label
from dsr.models import AuditEvent, DataSubjectRequest, MessageKind, RequestMessage, StaffUser

EVENT_TEXT = {
    "request.submitted": "Request received",
    "request.verify": "Identity verified",
    "request.start": "Work started",
    "request.request_info": "Asked the requester for more information",
    "request.requester_replied": "Requester replied",
    "request.complete": "Completed",
    "request.reject": "Rejected",
    "request.withdraw": "Withdrawn by the requester",
    "request.expire": "Expired: identity not confirmed in time",
    "request.reopen": "Reopened",
    "request.assigned": "Assignment changed",
    "request.note_added": "Note added",
    "request.message_sent": "Letter sent to the requester",
    "request.jurisdiction_changed": "Jurisdiction changed",
    "request.duplicate_flagged": "Flagged as a possible duplicate",
    "request.duplicate_linked": "Linked as a duplicate",
    "request.duplicate_unlinked": "Duplicate link removed",
    "request.confidentiality_changed": "Confidentiality changed",
    "clock.paused": "Clock paused",
    "clock.resumed": "Clock resumed",
    "clock.extended": "Deadline extended",
    "verification.sent": "Verification code sent",
    "verification.factor": "Identity proof received",
    "verification.wrong_code": "Wrong verification code entered",
    "requester.status_link_sent": "Status link emailed to the requester",
    "requester.message": "Message from the requester",
    "fulfilment.bundle_queued": "Data bundle queued",
    "fulfilment.bundle_built": "Data bundle built",
    "fulfilment.bundle_failed": "Data bundle failed (will retry)",
    "fulfilment.task_done": "Manual task confirmed",
    "bundle.released": "Bundle released to the requester",
    "bundle.reviewed": "Bundle downloaded by staff for review",
    "bundle.downloaded": "Bundle downloaded by the requester",
    "bundle.purged": "Bundle file deleted",
    "erasure.prepared": "Erasure plan prepared",
    "erasure.approved": "Erasure approved",
    "erasure.executed": "Erasure carried out",
    "erasure.failed": "Erasure attempt failed",
    "erasure.webhook_confirmed": "Another system confirmed the erasure",
    "correction.decided": "Correction decided",
    "correction.applied": "Corrections written to the systems",
    "consent.granted": "Consent given",
    "consent.withdrawn": "Consent withdrawn",
    "processing.flag_set": "Processing restricted or objected to",
    "processing.flag_lifted": "Restriction or objection lifted",
    "propagation.done": "Change passed on to a system",
    "propagation.failed": "Passing a change on failed (will retry)",
    "request.minimised": "Personal data minimised after the record-keeping period",
    "attachment.added": "Files attached by the requester",
    "attachment.downloaded": "Attachment downloaded by staff",
    "export.previewed": "Data export previewed by an admin",
    "export.downloaded": "Data exported by an admin",
    "requester.status_link_unmatched": "Status link asked for with details that matched no request",
    "subject.created": "Person recorded",
    "subject.merged": "Two records of the same person merged",
    "auth.login": "Signed in",
    "auth.logout": "Signed out (every session of the account ended)",
    "auth.failed": "Wrong password",
    "auth.locked": "Account locked after repeated failures",
    "auth.refused_locked": "Sign-in refused: account locked",
    "auth.totp_enrolled": "Authenticator set up",
    "auth.totp_failed": "Wrong authenticator code",
    "user.created": "Staff account created",
    "user.password_changed": "Password changed",
    "rules.updated": "Legal clock rule changed",
    "letters.updated": "Letter template changed",
    "outbox.retried": "Message retried by an admin",
    "job.run_now": "Job run by an admin",
    "systems.connection_tested": "Connection to a system tested",
    "api_key.created": "API key created",
    "api_key.revoked": "API key revoked",
    "webhook.subscriber_created": "Webhook subscriber added",
    "webhook.subscriber_changed": "Webhook subscriber changed",
    "webhook.secret_replaced": "Webhook signing secret replaced",
    "audit.verified": "Audit trail checked",
    "audit.exported": "Audit log exported",
    "reports.exported": "Annual metrics downloaded",
}


@dataclass(frozen=True)
class Entry:
    at: datetime
    who: str
    what: str
    details: dict
    message: RequestMessage | None = None


def _readable(action: str, details: dict, names: dict[str, str]) -> dict:
    """Event details as staff read them: names, not keys or ids."""
    readable = dict(details)
    if "type" in readable:
        readable["type"] = _label(RequestType, readable["type"])
    if "jurisdiction" in readable:
        readable["jurisdiction"] = jurisdiction_label(readable["jurisdiction"])
    for key in ("from", "to"):
        if key not in readable:
            continue
        value = readable[key]
        if action == "request.assigned":
            readable[key] = names.get(value, "a former member of staff") if value else "nobody"
        elif action == "request.jurisdiction_changed":
            readable[key] = jurisdiction_label(value)
        elif action.startswith("request."):
            readable[key] = _label(Status, value)
    return readable


def _label(kind: type[RequestType] | type[Status], value: object) -> object:
    try:
        return kind(value).label
    except ValueError:
        return value


def timeline(session: Session, request: DataSubjectRequest) -> list[Entry]:
    events = session.scalars(select(AuditEvent).where(AuditEvent.request_id == request.id)).all()
    assignees = {e.details.get(k) for e in events if e.action == "request.assigned" for k in ("from", "to")}
    assignees.discard(None)
    staff = select(StaffUser.public_id, StaffUser.name).where(StaffUser.public_id.in_(assignees))
    names = dict(session.execute(staff).all()) if assignees else {}
    messages = session.scalars(
        select(RequestMessage)
        .options(selectinload(RequestMessage.attachments))
        .where(RequestMessage.request_id == request.id)
    ).all()
    entries = [
        Entry(e.occurred_at, e.actor_label, EVENT_TEXT.get(e.action, e.action), _readable(e.action, e.details, names))
        for e in events
        # The message itself (with its files) stands for these.
        if e.action not in ("request.note_added", "request.message_sent", "attachment.added")
    ]
    labels = {
        MessageKind.NOTE: "Internal note",
        MessageKind.TO_REQUESTER: "Letter to the requester",
        MessageKind.FROM_REQUESTER: "Reply from the requester",
    }
    entries += [
        Entry(
            m.created_at,
            m.author.name if m.author else ("requester" if m.kind is MessageKind.FROM_REQUESTER else "staff"),
            labels[m.kind],
            {},
            m,
        )
        for m in messages
    ]
    return sorted(entries, key=lambda entry: entry.at)

"""What staff do to a request. Each verb checks who may act, moves the request, writes the audit
event and queues any letter to the requester, all in the caller's transaction."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.clock import LegalClock
from dsr.domain.errors import DomainError
from dsr.domain.lifecycle import Action, Status
from dsr.domain.requests import RejectionReason, RequestType
from dsr.domain.verification import Factor
from dsr.models import DataSubjectRequest, MessageKind, RequestMessage, StaffUser
from dsr.notify.links import Links
from dsr.services import corrections, deadlines, erasure
from dsr.services.audit import record_event
from dsr.services.bundles import BundlePolicy, release_for_completion
from dsr.services.consent_requests import on_completed, on_verified
from dsr.services.fulfilment import tasks_of
from dsr.services.letters import Drafter, acknowledge, send_letter
from dsr.services.requests import transition
from dsr.services.rules import rule_for
from dsr.services.subjects import ConsentSetup
from dsr.services.verification import record_factor


class NotAllowed(DomainError):
    """The staff member may not act on this request (it is someone else's, or confidential)."""


def can_view(user: StaffUser, request: DataSubjectRequest) -> bool:
    return user.is_admin or not request.confidential or request.assignee_id == user.id


def can_act(user: StaffUser, request: DataSubjectRequest) -> bool:
    """Admins act on anything; staff on what is theirs or unassigned (claim it first)."""
    return can_view(user, request) and (user.is_admin or request.assignee_id in (None, user.id))


def ensure_can_act(user: StaffUser, request: DataSubjectRequest) -> None:
    if not can_act(user, request):
        raise NotAllowed(f"{request.reference} is assigned to someone else. Ask an admin to reassign it.")


def assign(
    session: Session, actor: Actor, now: datetime, request: DataSubjectRequest, assignee: StaffUser | None
) -> None:
    """Staff may take unassigned work or let go of their own; admins may assign anyone."""
    claiming = assignee is not None and assignee.id == actor.user_id and request.assignee_id is None
    releasing = assignee is None and request.assignee_id == actor.user_id
    if not (actor.is_admin or claiming or releasing):
        raise NotAllowed("Only admins can assign requests to other people, or take over someone else's.")
    if assignee is not None and not assignee.active:
        raise DomainError(f"{assignee.name}'s account is inactive.")
    previous = request.assignee
    request.assignee = assignee
    record_event(
        session,
        actor,
        "request.assigned",
        now,
        request,
        **{"from": previous.public_id if previous else None, "to": assignee.public_id if assignee else None},
    )
    session.flush()


def add_note(session: Session, actor: Actor, now: datetime, request: DataSubjectRequest, body: str) -> None:
    session.add(
        RequestMessage(
            request_id=request.id, kind=MessageKind.NOTE, body=body.strip(), author_id=actor.user_id, created_at=now
        )
    )
    record_event(session, actor, "request.note_added", now, request)
    session.flush()


def start_work(session: Session, actor: Actor, now: datetime, request: DataSubjectRequest) -> None:
    transition(session, actor, now, request, Action.START)


def request_information(
    session: Session,
    actor: Actor,
    now: datetime,
    request: DataSubjectRequest,
    clock: LegalClock,
    subject: str,
    body: str,
    links: Links,
) -> bool:
    """Ask the requester for more; the clock stops where the jurisdiction allows. True when it stopped."""
    transition(session, actor, now, request, Action.REQUEST_INFO)
    send_letter(session, actor, now, request, subject, body, links)
    rule = rule_for(session, request.jurisdiction, request.request_type.value)
    if rule.pause_allowed and not request.is_paused:
        deadlines.pause_clock(session, actor, now, request, clock, "waiting for the requester")
        return True
    return False


def extend(
    session: Session,
    actor: Actor,
    now: datetime,
    request: DataSubjectRequest,
    clock: LegalClock,
    reason: str,
    subject: str,
    body: str,
    links: Links,
) -> None:
    if not request.status.is_open:
        raise DomainError("Only open requests can be extended.")
    deadline = deadlines.extend_deadline(session, actor, now, request, clock, reason)
    values = {"reason": reason.strip(), "due_date": f"{deadline.due:%-d %B %Y}"}
    send_letter(session, actor, now, request, subject, body, links, values)


def reject(
    session: Session,
    actor: Actor,
    now: datetime,
    request: DataSubjectRequest,
    reason: RejectionReason,
    subject: str,
    body: str,
    links: Links,
) -> None:
    transition(session, actor, now, request, Action.REJECT, reason=reason.value)
    request.rejection_reason = reason
    send_letter(session, actor, now, request, subject, body, links)


def complete(
    session: Session,
    actor: Actor,
    now: datetime,
    request: DataSubjectRequest,
    subject: str,
    body: str,
    links: Links,
    policy: BundlePolicy,
    consent: ConsentSetup | None = None,
) -> None:
    """Close the request; an access or portability bundle is checked and released to the requester,
    a restriction or objection flags the person's purposes."""
    transition(session, actor, now, request, Action.COMPLETE)
    release_for_completion(session, actor, now, request, policy)
    on_completed(session, actor, now, request, consent)
    send_letter(session, actor, now, request, subject, body, links)
    if request.request_type is RequestType.DELETION:
        plan = erasure.ensure_erased(session, request)
        receipt = erasure.receipt(plan, tasks_of(session, request), request.reference)
        send_letter(session, actor, now, request, f"Erasure receipt for request {request.reference}", receipt, links)
    elif request.request_type is RequestType.CORRECTION:
        outcome = corrections.outcome_text(corrections.ensure_done(session, request))
        send_letter(session, actor, now, request, f"What we corrected: request {request.reference}", outcome, links)


def reopen(session: Session, actor: Actor, now: datetime, request: DataSubjectRequest, window_days: int) -> None:
    if request.closed_at is None or now - request.closed_at > timedelta(days=window_days):
        raise DomainError(f"Requests can be reopened only within {window_days} days of closing.")
    transition(session, actor, now, request, Action.REOPEN)


def verify_manually(
    session: Session,
    actor: Actor,
    now: datetime,
    request: DataSubjectRequest,
    note: str,
    drafts: Drafter,
    links: Links,
    consent: ConsentSetup | None = None,
) -> None:
    """A staff member's documented identity check (ID seen, call-back made…) counts as full assurance."""
    if request.status is not Status.SUBMITTED:
        raise DomainError("Only requests waiting for an identity check can be verified.")
    if len(note.strip()) < 10:
        raise DomainError("Say how you verified the person (at least a sentence).")
    add_note(session, actor, now, request, f"Identity verified manually: {note.strip()}")
    if record_factor(session, actor, now, request, Factor.MANUAL) and not on_verified(
        session, actor, now, request, consent, drafts, links
    ):
        acknowledge(session, actor, now, request, drafts, links)


def set_confidential(
    session: Session, actor: Actor, now: datetime, request: DataSubjectRequest, confidential: bool
) -> None:
    if not actor.is_admin:
        raise NotAllowed("Only admins can change who may see a request.")
    request.confidential = confidential
    record_event(session, actor, "request.confidentiality_changed", now, request, confidential=confidential)
    session.flush()

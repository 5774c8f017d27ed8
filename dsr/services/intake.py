"""The requester's path: filing a request, proving identity step by step, following it up.

Every message goes through the outbox in the same transaction as the change that causes it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from dsr.domain.actors import Actor
from dsr.domain.clock import LegalClock
from dsr.domain.errors import DomainError
from dsr.domain.lifecycle import Action, Status
from dsr.domain.verification import Factor, next_factor
from dsr.models import DataSubjectRequest, MessageKind, RequestMessage
from dsr.notify.links import Links
from dsr.notify.outbox import add_email, queue_email, queue_sms, render_email
from dsr.services.audit import record_event
from dsr.services.consent_requests import on_verified
from dsr.services.deadlines import resume_clock
from dsr.services.letters import Drafter, acknowledge
from dsr.services.requests import NewRequest, ReferenceTaken, add_request, build_request, transition
from dsr.services.subjects import ConsentSetup
from dsr.services.verification import (
    ChallengeSecret,
    IssuedChallenge,
    VerificationSettings,
    add_challenge,
    issue_challenge,
    new_secret,
    record_factor,
)

T = TypeVar("T")


class NextStep(StrEnum):
    VERIFIED = "verified"  # identity proven: work can start
    COMPLETED = "completed"  # identity proven and the request took effect at once (consent withdrawal)
    SMS = "sms"  # a code is on its way to the phone
    STAFF = "staff"  # only a staff member can complete the identity check


def file_request(
    session: Session,
    now: datetime,
    new: NewRequest,
    clock: LegalClock,
    settings: VerificationSettings,
    links: Links,
    actor: Actor | None = None,
) -> DataSubjectRequest:
    """The requester files it on the form; through the API another system files it (`actor`) for them.
    Either way the requester must prove their identity from the email this sends, which also confirms
    receipt (CCPA asks for that within 10 business days).

    The due date, the code and the email are ready before the first write (SQLite locks the whole
    database from a transaction's first write to its commit, and every other worker waits for that
    lock). Its reference is not looked up first: the insert is the check, so run this through
    `retry_on_taken_reference`."""
    request = build_request(session, now, new, clock, acknowledged=True, check_reference=False)
    secret = new_secret(Factor.EMAIL)
    email = render_email("verification", _verification_context(request, secret, settings, links))
    add_request(session, actor or Actor.requester(), now, request)  # the id the code's hash needs
    add_challenge(session, now, request, Factor.EMAIL, settings, secret)  # the request is new: nothing to void
    add_email(session, now, to=request.requester_email, email=email, request=request)
    return request


def retry_on_taken_reference(session: Session, file_and_commit: Callable[[], T], tries: int = 3) -> T:
    """Run `file_and_commit` (file_request, then commit) again, from a rolled-back session, when the
    reference it drew was taken; anything else it raises goes to the caller."""
    for _ in range(tries - 1):
        try:
            return file_and_commit()
        except ReferenceTaken:
            session.rollback()
    return file_and_commit()


def send_challenge(
    session: Session,
    now: datetime,
    request: DataSubjectRequest,
    channel: Factor,
    settings: VerificationSettings,
    links: Links,
) -> IssuedChallenge:
    issued = issue_challenge(session, now, request, channel, settings)
    secret = ChallengeSecret(issued.code, issued.link_token)
    if channel is Factor.EMAIL:
        context = _verification_context(request, secret, settings, links)
        queue_email(session, now, to=request.requester_email, template="verification", request=request, context=context)
    else:
        minutes = int(settings.rules.code_ttl.total_seconds() // 60)
        context = {"code": issued.code, "minutes": minutes}
        queue_sms(session, now, to=request.requester_phone, template="code", request=request, context=context)
    return issued


def _verification_context(
    request: DataSubjectRequest, secret: ChallengeSecret, settings: VerificationSettings, links: Links
) -> dict:
    return {
        "request": request,
        "code": secret.code,
        "link": links.verify_link(secret.link_token),
        # Requests filed through the API: the requester never saw our page, so the email links it.
        "verify_page": links.verify_page(request) if links.verify_page else None,
        "minutes": int(settings.rules.code_ttl.total_seconds() // 60),
        "link_hours": int(settings.rules.link_ttl.total_seconds() // 3600),
    }


def send_download_code(
    session: Session, now: datetime, request: DataSubjectRequest, settings: VerificationSettings
) -> None:
    """A fresh code, by email only, before a bundle download (a stolen status link is not enough)."""
    issued = issue_challenge(session, now, request, Factor.EMAIL, settings, purpose="download")
    queue_email(
        session,
        now,
        to=request.requester_email,
        template="download_code",
        request=request,
        context={
            "request": request,
            "code": issued.code,
            "minutes": int(settings.rules.code_ttl.total_seconds() // 60),
        },
    )


def prove_factor(
    session: Session,
    now: datetime,
    request: DataSubjectRequest,
    factor: Factor,
    settings: VerificationSettings,
    links: Links,
    drafts: Drafter,
    consent: ConsentSetup | None = None,
) -> NextStep:
    """Record a proof and take the next step: confirm, ask for the SMS code, or leave it to staff."""
    if record_factor(session, Actor.requester(), now, request, factor):
        if on_verified(session, Actor.requester(), now, request, consent, drafts, links):
            return NextStep.COMPLETED
        acknowledge(session, Actor.requester(), now, request, drafts, links)
        return NextStep.VERIFIED
    if request.status is not Status.SUBMITTED:
        return NextStep.VERIFIED
    if next_factor(request.request_type, request.factors, has_phone=bool(request.requester_phone)) is Factor.SMS:
        send_challenge(session, now, request, Factor.SMS, settings, links)
        return NextStep.SMS
    return NextStep.STAFF


def find_for_status(session: Session, reference: str, email: str) -> DataSubjectRequest | None:
    return session.scalar(
        select(DataSubjectRequest).where(
            DataSubjectRequest.reference == reference.strip().upper(),
            func.lower(DataSubjectRequest.requester_email) == email.strip().lower(),
        )
    )


def send_status_link(session: Session, now: datetime, request: DataSubjectRequest, links: Links) -> None:
    queue_email(
        session,
        now,
        to=request.requester_email,
        template="status_link",
        request=request,
        context={"request": request, "status_link": links.status_link(request)},
    )
    record_event(session, Actor.requester(), "requester.status_link_sent", now, request)


def withdraw(session: Session, now: datetime, request: DataSubjectRequest) -> None:
    transition(session, Actor.requester(), now, request, Action.WITHDRAW)
    queue_email(
        session,
        now,
        to=request.requester_email,
        template="request_withdrawn",
        request=request,
        context={"request": request},
    )


REPLY_STATUSES = frozenset({Status.VERIFIED, Status.IN_PROGRESS, Status.AWAITING_REQUESTER})


def reply(session: Session, now: datetime, request: DataSubjectRequest, body: str, clock: LegalClock) -> RequestMessage:
    """A message from the requester. Answering a request for information resumes the work and the clock."""
    if request.status not in REPLY_STATUSES:
        raise DomainError("This request is not open for messages.")
    message = RequestMessage(request_id=request.id, kind=MessageKind.FROM_REQUESTER, body=body.strip(), created_at=now)
    session.add(message)
    if request.status is Status.AWAITING_REQUESTER:
        transition(session, Actor.requester(), now, request, Action.REQUESTER_REPLIED)
        if request.is_paused:
            resume_clock(session, Actor.requester(), now, request, clock)
    else:
        record_event(session, Actor.requester(), "requester.message", now, request)
    session.flush()
    return message


def visible_messages(session: Session, request: DataSubjectRequest) -> list[RequestMessage]:
    return list(
        session.scalars(
            select(RequestMessage)
            .options(selectinload(RequestMessage.attachments))
            .where(RequestMessage.request_id == request.id, RequestMessage.kind != MessageKind.NOTE)
            .order_by(RequestMessage.created_at, RequestMessage.id)
        )
    )

"""What consent, restriction and objection requests set off in the lifecycle.

- On verification: a Global Privacy Control signal sent with the request becomes an opt-out of sale
  and sharing for the now identified person; a consent withdrawal is recorded, propagated and the
  request completed at once, with a confirmation letter instead of the acknowledgement.
- On completion by staff: a restriction or objection becomes flags on the person's purposes. Staff
  decide first because both rights have grounds to weigh (GDPR Art. 18(1), 21(1)) and the answer may be
  partial; a person who simply wants marketing to stop has the withdrawal and unsubscribe paths,
  which act at once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.consent import ConsentSource, FlagKind
from dsr.domain.lifecycle import Action
from dsr.domain.requests import RequestType
from dsr.models import DataSubject, DataSubjectRequest, ProcessingFlag
from dsr.notify.links import Links
from dsr.services.consent import honour_gpc, record_consent, subject_for
from dsr.services.fulfilment import identities_of
from dsr.services.letters import Drafter, send_letter
from dsr.services.processing import record_flags
from dsr.services.requests import transition
from dsr.services.subjects import ConsentSetup, SubjectKeys, find_subject

FLAG_KINDS = {RequestType.RESTRICTION: FlagKind.RESTRICTION, RequestType.OBJECTION: FlagKind.OBJECTION}


def on_verified(
    session: Session,
    actor: Actor,
    now: datetime,
    request: DataSubjectRequest,
    setup: ConsentSetup | None,
    drafts: Drafter,
    links: Links,
) -> bool:
    """Run just after `request` became verified; True when it completed it (the confirmation is sent)."""
    withdrawal = request.request_type is RequestType.CONSENT_WITHDRAWAL
    if setup is None or not (request.gpc or withdrawal):
        return False
    subject = subject_for(session, actor, now, setup, identities_of(request))
    if request.gpc:
        honour_gpc(session, actor, now, setup, subject, evidence_ref=request.reference, request=request)
    if not withdrawal:
        return False
    known = {t.key for t in setup.profile.consent_topics}
    source = ConsentSource.API if request.source == "api" else ConsentSource.FORM
    for topic in request.form_data.get("consent_topics", []):
        if topic in known:
            record_consent(
                session,
                actor,
                now,
                setup,
                subject,
                topic,
                False,
                source,
                occurred_at=request.received_at,  # when the person told us, not when they confirmed it
                evidence_ref=request.reference,
                evidence={"request": request.reference},
                request=request,
            )
    transition(session, actor, now, request, Action.COMPLETE, automatic=True)
    letter = drafts(f"completion.{request.request_type.value}", request)
    send_letter(session, actor, now, request, letter.subject, letter.body, links)
    return True


def on_completed(
    session: Session, actor: Actor, now: datetime, request: DataSubjectRequest, setup: ConsentSetup | None
) -> list[ProcessingFlag]:
    """Run when staff complete a request: a restriction or objection flags the purposes it named."""
    kind = FLAG_KINDS.get(request.request_type)
    if setup is None or kind is None:
        return []
    known = {p.key for p in setup.profile.purposes}
    purposes = [p for p in request.form_data.get("purposes", []) if p in known]
    subject = subject_for(session, actor, now, setup, identities_of(request))
    return record_flags(session, actor, now, setup, subject, kind, purposes, request)


def subject_of_request(session: Session, keys: SubjectKeys, request: DataSubjectRequest) -> DataSubject | None:
    """The person record of a verified request's identifiers, if one exists (never creates one)."""
    if request.verified_at is None:
        return None
    return find_subject(session, keys, identities_of(request))

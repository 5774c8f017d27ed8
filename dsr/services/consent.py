"""Recording consent: grants and withdrawals in the ledger, from every channel a person may use.

Each entry keeps when it happened (event time), when we learned of it (recorded time), where it came
from and its evidence. An entry whose evidence was already recorded (a second click on the same
unsubscribe link, a provider re-sending a STOP text) is not recorded again. Every entry queues the
propagation of the topic to the systems that hold it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor, ActorKind
from dsr.domain.consent import ConsentSource, current_state, gpc_topics, keyword_topics
from dsr.domain.dataset import SubjectIdentities
from dsr.domain.errors import DomainError
from dsr.models import ConsentEvent, DataSubject, DataSubjectRequest, PropagationScope
from dsr.services import webhook_events
from dsr.services.audit import record_event
from dsr.services.consent_state import topic_states
from dsr.services.propagation import queue_everything, queue_propagation
from dsr.services.subjects import ConsentSetup, resolve_subject

GPC_EVIDENCE = {"header": "Sec-GPC: 1"}


def subject_for(
    session: Session, actor: Actor, now: datetime, setup: ConsentSetup, identities: SubjectIdentities
) -> DataSubject:
    """The person with these verified identifiers (created if new; two records of theirs are merged)."""
    subject, merged = resolve_subject(session, actor, now, setup.keys, identities)
    if merged:
        queue_everything(session, now, setup.dataset, subject)
    return subject


def record_consent(
    session: Session,
    actor: Actor,
    now: datetime,
    setup: ConsentSetup,
    subject: DataSubject,
    topic: str,
    granted: bool,
    source: ConsentSource,
    occurred_at: datetime | None = None,
    evidence_ref: str | None = None,
    evidence: dict[str, Any] | None = None,
    request: DataSubjectRequest | None = None,
) -> ConsentEvent | None:
    """Add one grant or withdrawal; None when this evidence was already recorded for the topic."""
    if topic not in {t.key for t in setup.profile.consent_topics}:
        raise DomainError(f"{topic!r} is not a consent topic of {setup.profile.name}.")
    if evidence_ref is not None:
        evidence_ref = evidence_ref[:200]
        seen = exists().where(
            ConsentEvent.subject_id == subject.id,
            ConsentEvent.topic == topic,
            ConsentEvent.source == source,
            ConsentEvent.evidence_ref == evidence_ref,
        )
        if session.scalar(select(seen)):
            return None
    event = ConsentEvent(
        subject_id=subject.id,
        topic=topic,
        granted=granted,
        occurred_at=occurred_at or now,
        recorded_at=now,
        source=source,
        evidence_ref=evidence_ref,
        evidence=evidence or {},
        request_id=request.id if request is not None else None,
        recorded_by_id=actor.user_id if actor.kind is ActorKind.STAFF else None,
    )
    session.add(event)
    session.flush()
    record_event(
        session,
        actor,
        "consent.granted" if granted else "consent.withdrawn",
        now,
        request,
        subject=subject.public_id,
        topic=topic,
        source=source.value,
    )
    queue_propagation(session, now, setup.dataset, subject, PropagationScope.CONSENT, topic)
    webhook_events.consent_changed(session, now, setup, subject, event, request)
    return event


def change_consents(
    session: Session,
    actor: Actor,
    now: datetime,
    setup: ConsentSetup,
    subject: DataSubject,
    choices: dict[str, bool],
    source: ConsentSource = ConsentSource.FORM,
    request: DataSubjectRequest | None = None,
) -> list[ConsentEvent]:
    """The preferences page: record the topics whose choice differs from the current state."""
    current = {s.topic.key: s.granted for s in topic_states(session, subject, setup.profile)}
    recorded = []
    for topic, granted in choices.items():
        if topic in current and current[topic] is not granted:
            event = record_consent(session, actor, now, setup, subject, topic, granted, source, request=request)
            recorded.append(event)
    return [e for e in recorded if e is not None]


def honour_gpc(
    session: Session,
    actor: Actor,
    now: datetime,
    setup: ConsentSetup,
    subject: DataSubject,
    evidence_ref: str | None = None,
    request: DataSubjectRequest | None = None,
) -> list[ConsentEvent]:
    """A Global Privacy Control signal from an identified person: an opt-out of sale and sharing (CCPA §7025)."""
    events = [
        record_consent(
            session,
            actor,
            now,
            setup,
            subject,
            t.key,
            False,
            ConsentSource.GPC,
            now,
            evidence_ref,
            GPC_EVIDENCE,
            request,
        )
        for t in gpc_topics(setup.profile)
    ]
    return [e for e in events if e is not None]


def unsubscribe(
    session: Session,
    now: datetime,
    setup: ConsentSetup,
    email: str,
    topic: str,
    evidence_ref: str,
    evidence: dict[str, Any] | None = None,
) -> DataSubject:
    """A one-click unsubscribe from a marketing email: no login, no questions.

    Using the same link again changes nothing while its withdrawal still decides the topic (a mail
    provider retrying its POST, a double click); after a later re-grant it is a new withdrawal.
    """
    actor = Actor.system("unsubscribe link")
    subject = subject_for(session, actor, now, setup, SubjectIdentities.of(email=email))
    source, base = ConsentSource.UNSUBSCRIBE_LINK, evidence_ref[:190]
    earlier = session.scalars(
        select(ConsentEvent).where(
            ConsentEvent.subject_id == subject.id,
            ConsentEvent.topic == topic,
            ConsentEvent.source == source,
            or_(ConsentEvent.evidence_ref == base, ConsentEvent.evidence_ref.startswith(f"{base}#", autoescape=True)),
        )
    ).all()
    if earlier:
        events = session.scalars(
            select(ConsentEvent).where(ConsentEvent.subject_id == subject.id, ConsentEvent.topic == topic)
        )
        if current_state(events).get(topic) in earlier:
            return subject
        base = f"{base}#{len(earlier) + 1}"
    record_consent(session, actor, now, setup, subject, topic, False, source, now, base, evidence)
    return subject


def stop_by_keyword(
    session: Session,
    now: datetime,
    setup: ConsentSetup,
    phone: str,
    message: str,
    evidence_ref: str,
    occurred_at: datetime | None = None,
    evidence: dict[str, Any] | None = None,
) -> list[str]:
    """A texted keyword ("STOP"): withdraws the topics whose stop keyword it is; returns their keys."""
    topics = keyword_topics(setup.profile, message)
    identities = SubjectIdentities.of(phone=phone)
    if not topics or identities.phone is None:
        return []
    actor = Actor.system("text message keyword")
    subject = subject_for(session, actor, now, setup, identities)
    for topic in topics:
        record_consent(
            session,
            actor,
            now,
            setup,
            subject,
            topic.key,
            False,
            ConsentSource.SMS_KEYWORD,
            occurred_at or now,
            evidence_ref,
            evidence,
        )
    return [t.key for t in topics]

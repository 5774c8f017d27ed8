"""Reading a person's consents and limits on processing: the current state and its history.

These are what the consent API answers with (by email or phone), what the preferences page and the
staff person page show, and what propagation writes into other systems.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsr.domain.consent import FlagKind, current_state
from dsr.domain.dataset import SubjectIdentities
from dsr.domain.profile import ConsentTopic, OrganisationProfile, Purpose
from dsr.models import ConsentEvent, DataSubject, ProcessingFlag
from dsr.services.subjects import SubjectKeys, find_subject


@dataclass(frozen=True)
class TopicState:
    """One consent topic for one person: the event that decides it, if there is any."""

    topic: ConsentTopic
    event: ConsentEvent | None

    @property
    def granted(self) -> bool | None:
        """True granted, False withdrawn, None when nothing was ever recorded."""
        return None if self.event is None else self.event.granted

    @property
    def state(self) -> str:
        return {True: "granted", False: "withdrawn", None: "no_record"}[self.granted]

    def as_dict(self) -> dict[str, Any]:
        event = self.event
        return {
            "topic": self.topic.key,
            "label": self.topic.label,
            "purpose": self.topic.purpose,
            "state": self.state,
            "since": event.occurred_at.isoformat() if event else None,
            "source": event.source.value if event else None,
        }


@dataclass(frozen=True)
class PurposeLimits:
    """Restriction and objection flags in force for one purpose."""

    purpose: Purpose
    flags: tuple[ProcessingFlag, ...]

    @property
    def restricted(self) -> bool:
        return any(f.kind is FlagKind.RESTRICTION for f in self.flags)

    @property
    def objected(self) -> bool:
        return any(f.kind is FlagKind.OBJECTION for f in self.flags)

    def as_dict(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose.key,
            "label": self.purpose.label,
            "restricted": self.restricted,
            "objected": self.objected,
            "since": min(f.set_at for f in self.flags).isoformat() if self.flags else None,
        }


def consent_history(session: Session, subject: DataSubject) -> list[ConsentEvent]:
    """Every grant and withdrawal, by event time (newest first), as staff read it."""
    return list(
        session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.subject_id == subject.id)
            .order_by(ConsentEvent.occurred_at.desc(), ConsentEvent.id.desc())
        )
    )


def topic_states(session: Session, subject: DataSubject | None, profile: OrganisationProfile) -> list[TopicState]:
    """Each consent topic of the profile, in the profile's order, with the event that decides it."""
    latest = current_state(consent_history(session, subject)) if subject is not None else {}
    return [TopicState(topic, latest.get(topic.key)) for topic in profile.consent_topics]


def consent_granted(session: Session, subject: DataSubject, topic: str) -> bool | None:
    events = session.scalars(
        select(ConsentEvent).where(ConsentEvent.subject_id == subject.id, ConsentEvent.topic == topic)
    )
    decided = current_state(events).get(topic)
    return None if decided is None else decided.granted


def flags_of(session: Session, subject: DataSubject, in_force_only: bool = False) -> list[ProcessingFlag]:
    query = select(ProcessingFlag).where(ProcessingFlag.subject_id == subject.id)
    if in_force_only:
        query = query.where(ProcessingFlag.lifted_at.is_(None))
    return list(session.scalars(query.order_by(ProcessingFlag.set_at.desc(), ProcessingFlag.id.desc())))


def is_restricted(session: Session, subject: DataSubject, purpose: str) -> bool:
    """Restricted or objected to: either way, other systems must not process for this purpose."""
    return any(f.purpose == purpose for f in flags_of(session, subject, in_force_only=True))


def purpose_limits(session: Session, subject: DataSubject | None, profile: OrganisationProfile) -> list[PurposeLimits]:
    """Each purpose of the profile with the flags in force on it."""
    flags = flags_of(session, subject, in_force_only=True) if subject is not None else []
    return [PurposeLimits(p, tuple(f for f in flags if f.purpose == p.key)) for p in profile.purposes]


def consent_state_for(
    session: Session,
    keys: SubjectKeys,
    profile: OrganisationProfile,
    email: str | None = None,
    phone: str | None = None,
) -> list[TopicState]:
    """The consent API's answer for an email or phone; every topic reads "no_record" for an unknown person."""
    subject = find_subject(session, keys, SubjectIdentities.of(email=email, phone=phone))
    return topic_states(session, subject, profile)


def processing_limits_for(
    session: Session,
    keys: SubjectKeys,
    profile: OrganisationProfile,
    email: str | None = None,
    phone: str | None = None,
) -> list[PurposeLimits]:
    """The API's answer to "may we process this person's data for each purpose?" by email or phone."""
    subject = find_subject(session, keys, SubjectIdentities.of(email=email, phone=phone))
    return purpose_limits(session, subject, profile)

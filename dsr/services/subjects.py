"""The people whose consents and limits on processing we record, known only by verified identifiers.

An identifier (a normalised email or phone) is stored twice: as a keyed hash, which is what every
lookup uses (a STOP text by phone, the API by email), and encrypted, because writing a withdrawal
into another system needs the value itself. When one verification proves an email and a phone that
so far belonged to two records, the two are the same person and are merged: their ledgers combine,
and since the state is derived from event times, the merged state is simply right.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.dataset import Dataset, SubjectIdentities
from dsr.domain.profile import OrganisationProfile
from dsr.encryption import Cipher
from dsr.models import (
    ConsentEvent,
    DataSubject,
    IdentifierKind,
    ProcessingFlag,
    PropagationJob,
    SubjectIdentifier,
)
from dsr.services.audit import record_event


@dataclass(frozen=True)
class SubjectKeys:
    digest_key: bytes  # HMAC key for lookups (DSR_IDENTITY_KEY, or derived from the secret key)
    cipher: Cipher  # encryption at rest for the values


@dataclass(frozen=True)
class ConsentSetup:
    """What consent work needs besides the database (the web layer and the CLI build it from the app).

    The data inventory may be given as a function: it is read only when a change must be propagated,
    so a broken dataset file never stands between a person and, say, their access request.
    """

    profile: OrganisationProfile
    inventory: Dataset | Callable[[], Dataset]
    keys: SubjectKeys

    @cached_property
    def dataset(self) -> Dataset:
        return self.inventory() if callable(self.inventory) else self.inventory


def digest(keys: SubjectKeys, kind: IdentifierKind, value: str) -> str:
    return hmac.new(keys.digest_key, f"{kind.value}:{value}".encode(), hashlib.sha256).hexdigest()


def _wanted(identities: SubjectIdentities) -> list[tuple[IdentifierKind, str]]:
    """Email first: when two records must be merged, the email's record is kept."""
    return [
        (kind, value)
        for kind, value in ((IdentifierKind.EMAIL, identities.email), (IdentifierKind.PHONE, identities.phone))
        if value
    ]


def _matching(session: Session, keys: SubjectKeys, identities: SubjectIdentities) -> list[SubjectIdentifier]:
    wanted = _wanted(identities)
    if not wanted:
        return []
    conditions = [
        and_(SubjectIdentifier.kind == kind, SubjectIdentifier.digest == digest(keys, kind, value))
        for kind, value in wanted
    ]
    found = session.scalars(select(SubjectIdentifier).where(or_(*conditions))).all()
    order = [kind for kind, _ in wanted]
    return sorted(found, key=lambda row: (order.index(row.kind), row.subject_id))


def find_subject(session: Session, keys: SubjectKeys, identities: SubjectIdentities) -> DataSubject | None:
    """The person these identifiers belong to (by email first), or None; never creates anything."""
    found = _matching(session, keys, identities)
    return found[0].subject if found else None


def by_public_id(session: Session, public_id: str) -> DataSubject | None:
    return session.scalar(select(DataSubject).where(DataSubject.public_id == public_id))


def resolve_subject(
    session: Session, actor: Actor, now: datetime, keys: SubjectKeys, identities: SubjectIdentities
) -> tuple[DataSubject, bool]:
    """The person's record, created or completed with these *verified* identifiers; True when records merged."""
    wanted = _wanted(identities)
    if not wanted:
        raise ValueError("A person is identified by a verified email or phone.")
    found = _matching(session, keys, identities)
    subjects = list(dict.fromkeys(row.subject for row in found))
    if subjects:
        subject = subjects[0]
    else:
        subject = DataSubject(created_at=now)
        session.add(subject)
        session.flush()
        record_event(session, actor, "subject.created", now, subject=subject.public_id)
    for other in subjects[1:]:
        _merge(session, actor, now, subject, other)
    held = {(row.kind, row.digest) for row in subject.identifiers}
    for kind, value in wanted:
        hashed = digest(keys, kind, value)
        if (kind, hashed) not in held:
            subject.identifiers.append(
                SubjectIdentifier(
                    kind=kind, digest=hashed, value_encrypted=keys.cipher.encrypt_text(value), created_at=now
                )
            )
    session.flush()
    return subject, len(subjects) > 1


def _merge(session: Session, actor: Actor, now: datetime, keep: DataSubject, other: DataSubject) -> None:
    """Move everything of `other` to `keep`; a ledger entry both hold (same evidence) is kept once."""
    held = set(
        session.execute(
            select(ConsentEvent.topic, ConsentEvent.source, ConsentEvent.evidence_ref).where(
                ConsentEvent.subject_id == keep.id, ConsentEvent.evidence_ref.is_not(None)
            )
        ).all()
    )
    for event in session.scalars(select(ConsentEvent).where(ConsentEvent.subject_id == other.id)):
        if (event.topic, event.source, event.evidence_ref) in held:
            session.delete(event)
        else:
            event.subject_id = keep.id
    moved = list(other.identifiers)
    session.flush()
    for model in (ProcessingFlag, PropagationJob, SubjectIdentifier):
        session.execute(update(model).where(model.subject_id == other.id).values(subject_id=keep.id))
    for stale in (keep, other, *moved):  # collections and back-references now point elsewhere
        session.expire(stale)
    record_event(session, actor, "subject.merged", now, subject=keep.public_id, merged=other.public_id)
    session.delete(other)
    session.flush()


def identities_of(subject: DataSubject, keys: SubjectKeys) -> list[SubjectIdentities]:
    """The person's identifiers, decrypted, as lookups for the data inventory (an email and a phone each)."""
    emails = [
        keys.cipher.decrypt_text(i.value_encrypted) for i in subject.identifiers if i.kind is IdentifierKind.EMAIL
    ]
    phones = [
        keys.cipher.decrypt_text(i.value_encrypted) for i in subject.identifiers if i.kind is IdentifierKind.PHONE
    ]
    pairs = max(len(emails), len(phones))
    return [
        SubjectIdentities(emails[n] if n < len(emails) else None, phones[n] if n < len(phones) else None)
        for n in range(pairs)
    ]

"""Suppression: after an erasure, marketing imports can ask "may we contact this address?" without
DSR Desk keeping the address. Identifiers are normalised the way the data inventory does, then
hashed with a key that must stay the same for the life of the list (DSR_SUPPRESSION_KEY)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsr.domain.dataset import SubjectIdentities
from dsr.models import DataSubjectRequest, SuppressionEntry


def digest(key: bytes, kind: str, value: str) -> str:
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def suppress(
    session: Session, key: bytes, now: datetime, identities: SubjectIdentities, request: DataSubjectRequest | None
) -> int:
    """Add each identifier once; returns how many were new."""
    added = 0
    for kind, value in identities.items():
        hashed = digest(key, str(kind), value)
        exists = session.scalar(
            select(SuppressionEntry.id).where(SuppressionEntry.kind == str(kind), SuppressionEntry.digest == hashed)
        )
        if exists is None:
            session.add(
                SuppressionEntry(
                    kind=str(kind), digest=hashed, request_id=request.id if request else None, created_at=now
                )
            )
            added += 1
    session.flush()
    return added


def is_suppressed(
    session: Session, key: bytes, email: str | None = None, phone: str | None = None, customer_id: str | None = None
) -> bool:
    """True when any given identifier belongs to someone whose data was erased."""
    identities = SubjectIdentities.of(email=email, phone=phone, customer_id=customer_id)
    for kind, value in identities.items():
        if session.scalar(
            select(SuppressionEntry.id).where(
                SuppressionEntry.kind == str(kind), SuppressionEntry.digest == digest(key, str(kind), value)
            )
        ):
            return True
    return False

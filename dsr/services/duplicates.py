"""Duplicate requests: the same verified person asking for the same thing while one is still open."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.models import DataSubjectRequest
from dsr.services.audit import record_event


def find_duplicate(session: Session, request: DataSubjectRequest) -> DataSubjectRequest | None:
    """The oldest other open, verified request of the same type from the same email.

    Only verified requests count on either side, so an unverified one can never block a real one.
    """
    if request.verified_at is None:
        return None
    return session.scalar(
        select(DataSubjectRequest)
        .where(
            DataSubjectRequest.id != request.id,
            DataSubjectRequest.requester_email == request.requester_email,
            DataSubjectRequest.request_type == request.request_type,
            DataSubjectRequest.is_open.is_(True),
            DataSubjectRequest.verified_at.is_not(None),
        )
        .order_by(DataSubjectRequest.received_at, DataSubjectRequest.id)
        .limit(1)
    )


def flag_if_duplicate(session: Session, now: datetime, request: DataSubjectRequest) -> DataSubjectRequest | None:
    original = find_duplicate(session, request)
    if original is not None:
        request.duplicate_of = original
        record_event(
            session,
            Actor.system("duplicate check"),
            "request.duplicate_flagged",
            now,
            request,
            original=original.reference,
        )
    return original


def link_duplicate(
    session: Session, actor: Actor, now: datetime, request: DataSubjectRequest, original: DataSubjectRequest | None
) -> None:
    """Staff confirm (or clear) which request this one repeats."""
    if original is not None and original.id == request.id:
        raise ValueError("A request cannot duplicate itself.")
    request.duplicate_of = original
    record_event(
        session,
        actor,
        "request.duplicate_linked" if original else "request.duplicate_unlinked",
        now,
        request,
        original=original.reference if original else None,
    )
    session.flush()

"""What the API says about a request: its progress, never who asked or what they wrote."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsr.domain.lifecycle import CLOSED_STATUSES, Status
from dsr.models import DataSubjectRequest

REFERENCE_FORMAT = re.compile(r"DSR-\d{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


def _iso(moment: datetime | date | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def visible_request(session: Session, reference: str) -> DataSubjectRequest | None:
    """Any request of the organisation by reference, except confidential ones (hidden from most staff too)."""
    wanted = reference.strip().upper()
    if not REFERENCE_FORMAT.fullmatch(wanted):
        return None
    found = session.scalar(select(DataSubjectRequest).where(DataSubjectRequest.reference == wanted))
    return found if found is not None and not found.confidential else None


def created(request: DataSubjectRequest, status_url: str) -> dict[str, Any]:
    return {
        "reference": request.reference,
        "status": request.status.value,
        "type": request.request_type.value,
        "jurisdiction": request.jurisdiction,
        "received_at": _iso(request.received_at),
        "due_on": _iso(request.due_on),
        "verification": "email_sent",
        "status_url": status_url,
    }


def status(request: DataSubjectRequest) -> dict[str, Any]:
    closed = request.status in CLOSED_STATUSES
    return {
        "reference": request.reference,
        "type": request.request_type.value,
        "status": request.status.value,
        "jurisdiction": request.jurisdiction,
        "source": request.source,
        "received_at": _iso(request.received_at),
        "verified_at": _iso(request.verified_at),
        "due_on": _iso(request.due_on),
        "extended": request.is_extended,
        "clock_paused": request.is_paused,
        "closed_at": _iso(request.closed_at),
        "outcome": request.status.value if closed else None,
        "rejection_reason": request.rejection_reason.value
        if request.status is Status.REJECTED and request.rejection_reason
        else None,
    }

"""Requests with hand-picked dates and outcomes, for the report and metrics tests."""

from __future__ import annotations

from datetime import date, datetime

from dsr.domain.lifecycle import Status
from dsr.domain.requests import RejectionReason, RequestType
from tests.factories import make_request


def seed(
    session,
    request_type: RequestType,
    received: datetime,
    status: Status = Status.SUBMITTED,
    closed: datetime | None = None,
    due: date | None = None,
    reason: RejectionReason | None = None,
    jurisdiction: str = "us_ca_ccpa",
    topics: list[str] | None = None,
    gpc: bool = False,
):
    """One request as the register would hold it (the dates are the point here, not the workflow)."""
    request = make_request(
        session, received, request_type, jurisdiction, email=f"p{received.timestamp():.0f}@example.org"
    )
    request.status, request.is_open = status, status.is_open
    request.closed_at, request.rejection_reason, request.gpc = closed, reason, gpc
    if due is not None:
        request.due_on = due
    if topics is not None:
        request.form_data = {"consent_topics": topics}
    session.commit()
    return request

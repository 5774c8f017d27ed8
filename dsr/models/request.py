"""The data-subject request aggregate: the request itself and the intervals its clock was paused."""

from __future__ import annotations

import secrets
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.domain.clock import Pause
from dsr.domain.lifecycle import Status
from dsr.domain.requests import RejectionReason, RequestType
from dsr.domain.verification import Factor
from dsr.extensions import db
from dsr.models.types import UTCDateTime, enum_column, utcnow
from dsr.models.user import StaffUser

# Crockford base32 without the ambiguous I, L, O, U: easy to read out over the phone.
REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_reference(year: int) -> str:
    """DSR-2026-7K3Q-M9XD: random, so one reference says nothing about any other."""
    body = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"DSR-{year}-{body[:4]}-{body[4:]}"


class DataSubjectRequest(db.Model):
    __tablename__ = "dsr_request"
    # The queue walks these in due-date order and stops after a page (keyset pagination); the
    # trailing visibility columns let the open/overdue counts run from the index alone.
    __table_args__ = (
        Index("ix_dsr_request_open_due", "is_open", "due_on", "id", "confidential", "assignee_id"),
        Index("ix_dsr_request_open_counts", "is_open", "confidential", "status", "due_on"),
        Index("ix_dsr_request_assignee_open_due", "assignee_id", "is_open", "due_on", "id"),
        Index("ix_dsr_request_open_type_due", "is_open", "request_type", "due_on", "id"),
        Index("ix_dsr_request_open_type_name", "is_open", "request_type", "search_name"),  # type + name search
        Index("ix_dsr_request_status_due", "status", "due_on", "id"),
        # The acknowledgement-clock sweep reads a window of acknowledge_by dates (dsr.services.reminders).
        Index("ix_dsr_request_open_acknowledge", "is_open", "acknowledge_by"),
        Index("ix_dsr_request_email", "requester_email"),
        Index("ix_dsr_request_search_name", "search_name"),
        Index("ix_dsr_request_received", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    request_type: Mapped[RequestType] = mapped_column(enum_column(RequestType))
    status: Mapped[Status] = mapped_column(enum_column(Status), default=Status.SUBMITTED)
    # Kept in step with status by the lifecycle service; the queue's main index starts with it.
    is_open: Mapped[bool] = mapped_column(default=True, server_default="1")
    jurisdiction: Mapped[str] = mapped_column(String(32))

    requester_name: Mapped[str] = mapped_column(String(200))
    # Lower-cased name for prefix search with a plain index (a range scan on every database).
    search_name: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # Stored trimmed and lower-cased so search and duplicate checks match.
    requester_email: Mapped[str] = mapped_column(String(254))
    requester_phone: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[str] = mapped_column(Text, default="")
    # Type-specific answers from the intake form (fields to correct, purposes to withdraw…).
    form_data: Mapped[dict] = mapped_column(JSON, default=dict)
    is_agent: Mapped[bool] = mapped_column(default=False)
    subject_name: Mapped[str | None] = mapped_column(String(200))
    gpc: Mapped[bool] = mapped_column(default=False)
    # Where the request came from: the public form, the API, or an admin's direct export.
    source: Mapped[str] = mapped_column(String(32), default="web", server_default="web")

    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Proofs of identity collected so far, comma-separated Factor values ("email,sms").
    factors_done: Mapped[str] = mapped_column(String(64), default="", server_default="")
    # Derived from the legal clock and kept here so the queue can sort and filter on an index.
    due_on: Mapped[date | None] = mapped_column(Date)
    acknowledge_by: Mapped[date | None] = mapped_column(Date)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    extension_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set once the record-keeping period is over and identifiers were replaced by hashes.
    minimised_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    rejection_reason: Mapped[RejectionReason | None] = mapped_column(enum_column(RejectionReason))

    # Confidential requests (a colleague's own request, say) are seen only by admins and the assignee.
    confidential: Mapped[bool] = mapped_column(default=False, server_default="0")
    # Set when this verified request repeats another open one from the same verified identity.
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("dsr_request.id", ondelete="SET NULL"))
    duplicate_of: Mapped[DataSubjectRequest | None] = relationship(remote_side="DataSubjectRequest.id")

    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    assignee: Mapped[StaffUser | None] = relationship(lazy="joined")
    pauses: Mapped[list[RequestPause]] = relationship(
        back_populates="request", order_by="RequestPause.started_at", cascade="all, delete-orphan"
    )

    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    # Optimistic locking: two staff saving the same request cannot overwrite each other.
    version: Mapped[int] = mapped_column(default=1)
    __mapper_args__ = {"version_id_col": version}

    @property
    def factors(self) -> frozenset[Factor]:
        return frozenset(Factor(value) for value in self.factors_done.split(",") if value)

    def add_factor(self, factor: Factor) -> None:
        self.factors_done = ",".join(sorted(self.factors | {factor}))

    @property
    def is_extended(self) -> bool:
        return self.extended_at is not None

    @property
    def is_paused(self) -> bool:
        return any(p.ended_at is None for p in self.pauses)

    def clock_pauses(self) -> list[Pause]:
        return [Pause(p.started_at, p.ended_at) for p in self.pauses]

    def __repr__(self) -> str:
        return f"<DataSubjectRequest {self.reference} {self.status}>"


class RequestPause(db.Model):
    __tablename__ = "request_pause"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("dsr_request.id", ondelete="CASCADE"), index=True)
    request: Mapped[DataSubjectRequest] = relationship(back_populates="pauses")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(200), default="")

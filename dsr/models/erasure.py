"""Erasure plans (prepared by staff, approved by a different admin, executed in resumable batches)
and correction items (one proposed change, decided field by field)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import db
from dsr.models.request import DataSubjectRequest
from dsr.models.types import UTCDateTime, enum_column, utcnow
from dsr.models.user import StaffUser, new_public_id


class PlanStatus(StrEnum):
    PREPARED = "prepared"  # waiting for an admin's approval
    APPROVED = "approved"  # queued or running
    DONE = "done"
    FAILED = "failed"
    SUPERSEDED = "superseded"  # a newer plan replaced it before approval


class ErasurePlan(db.Model):
    __tablename__ = "erasure_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    request_id: Mapped[int] = mapped_column(ForeignKey("dsr_request.id", ondelete="CASCADE"), index=True)
    request: Mapped[DataSubjectRequest] = relationship()
    status: Mapped[PlanStatus] = mapped_column(enum_column(PlanStatus), default=PlanStatus.PREPARED)
    # The dry run exactly as the admin approved it (systems, tables, rows, actions, what is kept and why).
    plan: Mapped[dict] = mapped_column(JSON)
    prepared_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    prepared_by: Mapped[StaffUser | None] = relationship(foreign_keys=[prepared_by_id])
    prepared_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    approved_by: Mapped[StaffUser | None] = relationship(foreign_keys=[approved_by_id])
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    job_id: Mapped[int | None] = mapped_column(ForeignKey("fulfilment_job.id", ondelete="SET NULL"))
    # Where execution stands: saved after every batch commits on the source system, so a restart
    # continues from here and never applies a batch twice.
    checkpoint: Mapped[dict] = mapped_column(JSON, default=dict)
    # Counts per table once done (erased / kept), for the receipt; never the erased values.
    result: Mapped[dict] = mapped_column(JSON, default=dict)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Decision(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class CorrectionItem(db.Model):
    __tablename__ = "correction_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    request_id: Mapped[int] = mapped_column(ForeignKey("dsr_request.id", ondelete="CASCADE"), index=True)
    request: Mapped[DataSubjectRequest] = relationship()
    # What the requester wrote, and the field staff matched it to (system / table / column).
    asked_field: Mapped[str] = mapped_column(String(200))
    new_value: Mapped[str] = mapped_column(Text)
    system_key: Mapped[str | None] = mapped_column(String(100))
    table_name: Mapped[str | None] = mapped_column(String(100))
    column_name: Mapped[str | None] = mapped_column(String(100))
    decision: Mapped[Decision] = mapped_column(enum_column(Decision), default=Decision.PENDING)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    decided_by: Mapped[StaffUser | None] = relationship()
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

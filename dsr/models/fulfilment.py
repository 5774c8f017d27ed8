"""Fulfilment: background jobs (bundles now, erasure later), the bundles they produce, and the
tasks people must do by hand for systems no code can reach."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import db
from dsr.models.request import DataSubjectRequest
from dsr.models.types import UTCDateTime, enum_column, utcnow
from dsr.models.user import StaffUser, new_public_id


class JobKind(StrEnum):
    ACCESS_BUNDLE = "access_bundle"
    PORTABILITY_BUNDLE = "portability_bundle"
    ERASURE = "erasure"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class FulfilmentJob(db.Model):
    __tablename__ = "fulfilment_job"
    __table_args__ = (Index("ix_fulfilment_job_status", "status", "run_after"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    request_id: Mapped[int] = mapped_column(ForeignKey("dsr_request.id", ondelete="CASCADE"), index=True)
    request: Mapped[DataSubjectRequest] = relationship()
    kind: Mapped[JobKind] = mapped_column(enum_column(JobKind))
    status: Mapped[JobStatus] = mapped_column(enum_column(JobStatus), default=JobStatus.QUEUED)
    # Rows expected (counted first) and written so far: the progress bar.
    total_rows: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    done_rows: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    attempts: Mapped[int] = mapped_column(default=0)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A worker holds the job until this time; past it, another worker may take over (a crashed run).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def percent(self) -> int:
        if self.status is JobStatus.DONE:
            return 100
        return min(99, int(100 * self.done_rows / self.total_rows)) if self.total_rows else 0


class Bundle(db.Model):
    """An encrypted bundle file on disk, released to the requester when staff complete the request."""

    __tablename__ = "bundle"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    request_id: Mapped[int] = mapped_column(ForeignKey("dsr_request.id", ondelete="CASCADE"), index=True)
    request: Mapped[DataSubjectRequest] = relationship()
    job_id: Mapped[int | None] = mapped_column(ForeignKey("fulfilment_job.id", ondelete="SET NULL"))
    kind: Mapped[JobKind] = mapped_column(enum_column(JobKind))
    file_name: Mapped[str] = mapped_column(String(200))  # inside DSR_BUNDLE_DIR, never a user-chosen path
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), default=0)
    row_counts: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    downloads: Mapped[int] = mapped_column(default=0)
    max_downloads: Mapped[int] = mapped_column(default=3)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class FulfilmentTask(db.Model):
    """Work on a `manual` system that a staff member confirms with a note."""

    __tablename__ = "fulfilment_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    request_id: Mapped[int] = mapped_column(ForeignKey("dsr_request.id", ondelete="CASCADE"), index=True)
    request: Mapped[DataSubjectRequest] = relationship()
    system_key: Mapped[str] = mapped_column(String(100))
    # A webhook system's job id: its signed callback closes the task.
    external_ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    instructions: Mapped[str] = mapped_column(Text)
    status: Mapped[TaskStatus] = mapped_column(enum_column(TaskStatus), default=TaskStatus.OPEN)
    note: Mapped[str | None] = mapped_column(Text)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    done_by: Mapped[StaffUser | None] = relationship()
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

"""Background job history, and the APScheduler job store's table (declared here so Alembic owns it)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Double, ForeignKey, Index, LargeBinary, String, Table, Unicode
from sqlalchemy.orm import Mapped, mapped_column

from dsr.extensions import db
from dsr.models.types import UTCDateTime, enum_column


class JobOutcome(StrEnum):
    OK = "ok"
    ERROR = "error"


class JobTrigger(StrEnum):
    SCHEDULED = "scheduled"  # a scheduler process (flask dsr scheduler, or inside flask dsr serve)
    ONCE = "once"  # flask dsr run-jobs --once
    MANUAL = "manual"  # an admin's "run now"


class JobRun(db.Model):
    """One run of one job; the newest few per job are kept (dsr.services.job_runs.KEEP_RUNS)."""

    __tablename__ = "job_run"
    __table_args__ = (Index("ix_job_run_job_started", "job_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64))
    trigger: Mapped[JobTrigger] = mapped_column(enum_column(JobTrigger))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    duration_ms: Mapped[int]
    outcome: Mapped[JobOutcome] = mapped_column(enum_column(JobOutcome))
    # The exception's type and where it was raised; never its message (it may quote personal data).
    error: Mapped[str | None] = mapped_column(String(300))
    # host:pid of the process that ran it, to tell scheduler processes apart.
    worker: Mapped[str] = mapped_column(String(120), default="")
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))

    def __repr__(self) -> str:
        return f"<JobRun {self.job_id} {self.outcome}>"


# APScheduler 3's SQLAlchemyJobStore table: migration 0007 creates it, the scheduler processes keep
# each job's pickled trigger and next run time in it, and the admin Jobs page reads next_run_time
# (a UTC timestamp) without unpickling anything. APScheduler declares next_run_time as Float(25),
# which every database stores as an 8-byte double; Double says so in a way all three reflect alike.
scheduler_jobs = Table(
    "apscheduler_jobs",
    db.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Double(), index=True),
    Column("job_state", LargeBinary, nullable=False),
)

"""Job history for Admin → Jobs: each run's outcome, and the next run times the scheduler stored."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.models import JobOutcome, JobRun, JobTrigger, scheduler_jobs
from dsr.services.audit import record_event

KEEP_RUNS = 50  # per job; older runs are deleted as new ones are recorded


def record_run(
    session: Session,
    job_id: str,
    trigger: JobTrigger,
    started_at: datetime,
    duration_ms: int,
    error: str | None,
    worker: str,
    actor: Actor | None = None,
) -> JobRun:
    """Store one run (and, for an admin's "run now", the audit event naming them); prune old runs."""
    run = JobRun(
        job_id=job_id,
        trigger=trigger,
        started_at=started_at,
        duration_ms=duration_ms,
        outcome=JobOutcome.ERROR if error else JobOutcome.OK,
        error=error[:300] if error else None,
        worker=worker[:120],
        requested_by_id=actor.user_id if actor is not None else None,
    )
    session.add(run)
    if actor is not None:
        record_event(session, actor, "job.run_now", started_at, job=job_id, outcome=run.outcome.value)
    session.flush()
    oldest_kept = session.scalar(
        select(JobRun.started_at)
        .where(JobRun.job_id == job_id)
        .order_by(JobRun.started_at.desc())
        .offset(KEEP_RUNS - 1)
        .limit(1)
    )
    if oldest_kept is not None:
        session.execute(delete(JobRun).where(JobRun.job_id == job_id, JobRun.started_at < oldest_kept))
    return run


def last_runs(session: Session, job_ids: list[str]) -> dict[str, JobRun]:
    """The latest run of each job (one indexed lookup per job)."""
    found = {}
    for job_id in job_ids:
        run = session.scalar(
            select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(1)
        )
        if run is not None:
            found[job_id] = run
    return found


def recent_runs(session: Session, limit: int = 20) -> list[JobRun]:
    return list(session.scalars(select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)))


def next_run_times(session: Session) -> dict[str, datetime | None]:
    """From APScheduler's job store: job id -> next run (None when paused); absent when never scheduled."""
    rows = session.execute(select(scheduler_jobs.c.id, scheduler_jobs.c.next_run_time))
    return {job_id: datetime.fromtimestamp(stamp, UTC) if stamp is not None else None for job_id, stamp in rows.all()}

"""Fulfilment work: queueing a bundle job, running it in the background, and manual-system tasks.

A job is claimed under a lease (FOR UPDATE SKIP LOCKED where the database has it, a conditional
UPDATE on SQLite). A run that crashes leaves no file behind (bundles are written to a temporary
name and renamed) and its lease runs out, so another worker starts it again from the beginning.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.dataset import Dataset, SubjectIdentities
from dsr.domain.errors import DomainError
from dsr.domain.lifecycle import Status
from dsr.domain.profile import OrganisationProfile
from dsr.domain.requests import RequestType
from dsr.domain.verification import Factor
from dsr.fulfilment.bundle import BundleKind, BundleRequest, build_bundle
from dsr.models import (
    Bundle,
    DataSubjectRequest,
    FulfilmentJob,
    FulfilmentTask,
    JobKind,
    JobStatus,
    StaffUser,
    TaskStatus,
)
from dsr.services.audit import record_event
from dsr.sources.manual import manual_tasks
from dsr.sources.sql import count_subject_rows

BUNDLE_JOBS = {RequestType.ACCESS: JobKind.ACCESS_BUNDLE, RequestType.PORTABILITY: JobKind.PORTABILITY_BUNDLE}
BUNDLE_KINDS = {JobKind.ACCESS_BUNDLE: BundleKind.ACCESS, JobKind.PORTABILITY_BUNDLE: BundleKind.PORTABILITY}
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 3


def identities_of(request: DataSubjectRequest) -> SubjectIdentities:
    """Only what has been verified: the email always; the phone once its SMS code was entered;
    the account detail once matched. A staff member's manual verification covers all three."""
    factors = request.factors
    manual = Factor.MANUAL in factors
    return SubjectIdentities.of(
        email=request.requester_email,
        phone=request.requester_phone if manual or Factor.SMS in factors else None,
        customer_id=request.form_data.get("data_point") if manual or Factor.DATA_POINT in factors else None,
    )


def queue_bundle(
    session: Session, actor: Actor, now: datetime, request: DataSubjectRequest, dataset: Dataset
) -> FulfilmentJob:
    if request.request_type not in BUNDLE_JOBS:
        raise DomainError("Only access and portability requests produce a data bundle.")
    if request.status not in (Status.VERIFIED, Status.IN_PROGRESS):
        raise DomainError("Build the bundle once the identity is verified and before the request is closed.")
    if active_job(session, request) is not None:
        raise DomainError("A bundle is already being built for this request.")
    job = FulfilmentJob(request_id=request.id, kind=BUNDLE_JOBS[request.request_type], run_after=now, created_at=now)
    session.add(job)
    if not session.scalar(select(FulfilmentTask.id).where(FulfilmentTask.request_id == request.id).limit(1)):
        for task in manual_tasks(dataset, request.request_type, identities_of(request)):
            session.add(
                FulfilmentTask(
                    request_id=request.id,
                    system_key=task.system_key,
                    title=task.title,
                    instructions=task.description,
                    created_at=now,
                )
            )
    record_event(session, actor, "fulfilment.bundle_queued", now, request, kind=job.kind.value)
    session.flush()
    return job


def active_job(session: Session, request: DataSubjectRequest) -> FulfilmentJob | None:
    return session.scalar(
        select(FulfilmentJob).where(
            FulfilmentJob.request_id == request.id, FulfilmentJob.status.in_([JobStatus.QUEUED, JobStatus.RUNNING])
        )
    )


def latest_job(session: Session, request: DataSubjectRequest) -> FulfilmentJob | None:
    return session.scalar(
        select(FulfilmentJob).where(FulfilmentJob.request_id == request.id).order_by(FulfilmentJob.id.desc()).limit(1)
    )


def tasks_of(session: Session, request: DataSubjectRequest) -> list[FulfilmentTask]:
    return list(
        session.scalars(
            select(FulfilmentTask).where(FulfilmentTask.request_id == request.id).order_by(FulfilmentTask.id)
        )
    )


def complete_task(
    session: Session, actor: Actor, now: datetime, task: FulfilmentTask, user: StaffUser, note: str
) -> None:
    if task.status is TaskStatus.DONE:
        raise DomainError("This task is already done.")
    if len(note.strip()) < 3:
        raise DomainError("Say what you found or did.")
    task.status, task.note, task.done_by, task.done_at = TaskStatus.DONE, note.strip(), user, now
    record_event(session, actor, "fulfilment.task_done", now, task.request, system=task.system_key)
    session.flush()
    _rebuild_with_findings(session, actor, now, task.request)


def _rebuild_with_findings(session: Session, actor: Actor, now: datetime, request: DataSubjectRequest) -> None:
    """Once every manual task is confirmed, a bundle built before that is rebuilt to include the findings."""
    if request.request_type not in BUNDLE_JOBS:
        return
    tasks = tasks_of(session, request)
    built_before = session.scalar(
        select(FulfilmentJob.id)
        .where(FulfilmentJob.request_id == request.id, FulfilmentJob.status == JobStatus.DONE)
        .limit(1)
    )
    if built_before and all(t.status is TaskStatus.DONE for t in tasks) and active_job(session, request) is None:
        session.add(
            FulfilmentJob(request_id=request.id, kind=BUNDLE_JOBS[request.request_type], run_after=now, created_at=now)
        )
        record_event(session, actor, "fulfilment.bundle_queued", now, request, reason="manual findings")
        session.flush()


def claim_job(session: Session, now: datetime, lease: timedelta = LEASE) -> FulfilmentJob | None:
    """Take the next due job for this worker (commit right after, so other workers see the claim)."""
    due = or_(
        and_(FulfilmentJob.status == JobStatus.QUEUED, FulfilmentJob.run_after <= now),
        and_(FulfilmentJob.status == JobStatus.RUNNING, FulfilmentJob.claimed_until <= now),
    )
    query = select(FulfilmentJob.id, FulfilmentJob.status).where(due).order_by(FulfilmentJob.run_after).limit(5)
    if session.get_bind().dialect.name in ("postgresql", "mysql", "mariadb"):
        query = query.with_for_update(skip_locked=True)
    for job_id, seen in session.execute(query).all():
        claimed = session.execute(
            update(FulfilmentJob)
            .where(FulfilmentJob.id == job_id, FulfilmentJob.status == seen, due)
            .values(
                status=JobStatus.RUNNING,
                claimed_until=now + lease,
                attempts=FulfilmentJob.attempts + 1,
                started_at=now,
                done_rows=0,
                error=None,
            )
        )
        if claimed.rowcount == 1:
            return session.get(FulfilmentJob, job_id, populate_existing=True)
    return None


@dataclass(frozen=True)
class BundleContext:
    """What a bundle run needs besides the database (the job wiring builds it from the app)."""

    dataset: Dataset
    profile: OrganisationProfile
    keys: list[bytes]
    directory: Path
    environ: Mapping[str, str] | None = None
    lease: timedelta = LEASE  # renewed while the bundle is written


def run_bundle_job(
    session: Session, clock: Callable[[], datetime], job: FulfilmentJob, context: BundleContext
) -> Bundle | None:
    """Build the bundle, reporting progress on the job row; on failure retry later, then give up."""
    request = job.request
    identities = identities_of(request)
    try:
        job.total_rows = sum(count_subject_rows(context.dataset, identities, context.environ).values())
        session.commit()
        reporter = _ProgressReporter(session, clock, job, context.lease)
        context.directory.mkdir(parents=True, exist_ok=True)
        file_name = f"{job.public_id}.bundle"
        findings = {t.system_key: t.note or "" for t in tasks_of(session, request) if t.status is TaskStatus.DONE}
        summary = build_bundle(
            context.directory / file_name,
            context.dataset,
            context.profile,
            BundleRequest(request.reference, BUNDLE_KINDS[job.kind], clock(), identities, findings),
            context.keys,
            context.environ,
            progress=reporter,
        )
    except Exception as failure:  # noqa: BLE001 - any failure is recorded on the job and retried
        session.rollback()
        job = session.get(FulfilmentJob, job.id, populate_existing=True)
        now = clock()
        job.error = f"{type(failure).__name__}: the bundle could not be built (attempt {job.attempts})."
        job.claimed_until = None
        if job.attempts >= MAX_ATTEMPTS:
            job.status, job.finished_at = JobStatus.FAILED, now
        else:
            job.status, job.run_after = JobStatus.QUEUED, now + timedelta(minutes=2**job.attempts)
        record_event(
            session, Actor.system("fulfilment"), "fulfilment.bundle_failed", now, request, attempt=job.attempts
        )
        return None
    now = clock()
    bundle = Bundle(
        request_id=request.id,
        job_id=job.id,
        kind=job.kind,
        file_name=file_name,
        size=summary.size,
        row_counts=summary.row_counts,
        created_at=now,
    )
    session.add(bundle)
    job.status, job.finished_at, job.done_rows, job.claimed_until = JobStatus.DONE, now, job.total_rows, None
    record_event(
        session,
        Actor.system("fulfilment"),
        "fulfilment.bundle_built",
        now,
        request,
        rows=sum(summary.row_counts.values()),
        tables=len(summary.row_counts),
    )
    session.flush()
    return bundle


class _ProgressReporter:
    """Writes rows done to the job at most once a second, and renews the lease while it does."""

    def __init__(self, session: Session, clock: Callable[[], datetime], job: FulfilmentJob, lease: timedelta) -> None:
        self.session, self.clock, self.job, self.lease = session, clock, job, lease
        self.done = 0
        self.saved_at = clock()

    def __call__(self, rows: int) -> None:
        self.done += rows
        now = self.clock()
        if now - self.saved_at >= timedelta(seconds=1):
            self.job.done_rows = self.done
            self.job.claimed_until = now + self.lease
            self.session.commit()
            self.saved_at = now

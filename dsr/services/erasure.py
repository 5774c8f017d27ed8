"""Erasure, the dangerous one: a dry-run plan prepared by staff, approved by a different admin,
executed in the background in resumable batches, proven by a receipt, followed by suppression.

The plan row keeps the approved plan as JSON and the engine's checkpoint, which is committed to
the app database around every batch the engine commits on a source system: a restart continues
from it and never erases twice (dsr.fulfilment.erasure explains the protocol).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.dataset import Dataset
from dsr.domain.errors import DomainError
from dsr.domain.lifecycle import Status
from dsr.domain.requests import RequestType
from dsr.fulfilment.erasure import BatchDone, ErasureError, execute_erasure
from dsr.fulfilment.erasure_external import erasure_tasks, webhook_erasure_jobs
from dsr.fulfilment.erasure_plan import ErasurePlan as PlanSpec
from dsr.fulfilment.erasure_plan import plan_erasure
from dsr.models import (
    DataSubjectRequest,
    ErasurePlan,
    FulfilmentJob,
    FulfilmentTask,
    JobKind,
    JobStatus,
    PlanStatus,
    TaskStatus,
)
from dsr.notify.outbox import queue_webhook
from dsr.services.audit import record_event
from dsr.services.fulfilment import LEASE, MAX_ATTEMPTS, identities_of, tasks_of
from dsr.services.suppression import suppress
from dsr.sources.sql import SourceError

OPEN_FOR_ERASURE = (Status.VERIFIED, Status.IN_PROGRESS)


def current_plan(session: Session, request: DataSubjectRequest) -> ErasurePlan | None:
    return session.scalar(
        select(ErasurePlan)
        .where(ErasurePlan.request_id == request.id, ErasurePlan.status != PlanStatus.SUPERSEDED)
        .order_by(ErasurePlan.id.desc())
        .limit(1)
    )


def prepare(
    session: Session,
    actor: Actor,
    now: datetime,
    request: DataSubjectRequest,
    dataset: Dataset,
    environ: Mapping[str, str] | None = None,
) -> ErasurePlan:
    """A fresh dry run; a plan not yet approved is replaced by it."""
    if request.request_type is not RequestType.DELETION:
        raise DomainError("Only deletion requests are erased.")
    if request.status not in OPEN_FOR_ERASURE:
        raise DomainError("Prepare the erasure once the identity is verified and before the request is closed.")
    existing = current_plan(session, request)
    if existing is not None and existing.status is not PlanStatus.PREPARED:
        raise DomainError("An approved erasure exists for this request already.")
    if existing is not None:
        existing.status = PlanStatus.SUPERSEDED
    spec = plan_erasure(dataset, identities_of(request), environ)
    plan = ErasurePlan(request_id=request.id, plan=spec.to_json(), prepared_by_id=actor.user_id, prepared_at=now)
    session.add(plan)
    record_event(session, actor, "erasure.prepared", now, request, **spec.totals, problems=len(spec.problems) or None)
    session.flush()
    return plan


def approve(
    session: Session,
    actor: Actor,
    now: datetime,
    plan: ErasurePlan,
    dataset: Dataset,
    callback_url: Callable[[str], str],
    environ: Mapping[str, str] | None = None,
) -> FulfilmentJob:
    """Four eyes: an admin who did not prepare the plan approves exactly that plan."""
    if not actor.is_admin:
        raise DomainError("Only an admin can approve an erasure.")
    if actor.user_id is not None and actor.user_id == plan.prepared_by_id:
        raise DomainError("Someone other than the person who prepared the plan must approve it.")
    if plan.status is not PlanStatus.PREPARED:
        raise DomainError("This plan is not waiting for approval.")
    request = plan.request
    if request.status not in OPEN_FOR_ERASURE:
        raise DomainError("The request is no longer open.")
    spec = PlanSpec.from_json(plan.plan)
    if not spec.can_execute:
        raise DomainError("This plan has problems to solve first: " + " ".join(spec.problems))
    plan.status, plan.approved_by_id, plan.approved_at = PlanStatus.APPROVED, actor.user_id, now
    job = FulfilmentJob(
        request_id=request.id,
        kind=JobKind.ERASURE,
        run_after=now,
        created_at=now,
        total_rows=spec.totals.get("rows_to_delete", 0) + spec.totals.get("rows_to_update", 0),
    )
    session.add(job)
    session.flush()
    plan.job_id = job.id
    _external_steps(session, now, request, dataset, callback_url, environ)
    record_event(session, actor, "erasure.approved", now, request, plan=plan.public_id)
    session.flush()
    return job


def _external_steps(session, now, request, dataset, callback_url, environ) -> None:
    """Manual systems become tasks; webhook systems get a signed job and a task their callback closes."""
    identities = identities_of(request)
    for task in erasure_tasks(dataset, identities):
        session.add(
            FulfilmentTask(
                request_id=request.id,
                system_key=task.system_key,
                title=task.title,
                instructions=task.description,
                created_at=now,
            )
        )
    for step in webhook_erasure_jobs(
        dataset, identities, callback_url, now, request_reference=request.reference, environ=environ
    ):
        hook = step.job
        session.add(
            FulfilmentTask(
                request_id=request.id,
                system_key=hook.system_key,
                external_ref=step.job_id,
                title=f"Waiting for {hook.system_key} to confirm the erasure",
                instructions="Closed automatically by the system's signed callback.",
                created_at=now,
            )
        )
        queue_webhook(
            session,
            now,
            url=hook.url,
            payload=json.loads(hook.body),
            signing_key_ref=f"system:{hook.system_key}",
            template="erasure_job",
            request=request,
        )


@dataclass
class PlanCheckpoint:
    """The engine's checkpoint, kept on the plan row and committed when saved (durable on return)."""

    session: Session
    plan: ErasurePlan
    job: FulfilmentJob
    clock: Callable[[], datetime]
    lease: timedelta  # each save renews the job's claim by this much

    def load(self) -> dict | None:
        return dict(self.plan.checkpoint) or None

    def save(self, state: dict) -> None:
        self.plan.checkpoint = state
        self.job.claimed_until = self.clock() + self.lease  # a live run keeps its lease
        self.session.commit()

    def progress(self, batch: BatchDone) -> None:
        self.job.done_rows, self.job.total_rows = batch.rows_done, max(batch.rows_planned, batch.rows_done)


@dataclass(frozen=True)
class ErasureContext:
    dataset: Dataset
    secret: bytes  # keys the hashes written into source systems and the suppression list
    environ: Mapping[str, str] | None = None
    lease: timedelta = LEASE  # renewed at every checkpoint


def run_erasure_job(
    session: Session, clock: Callable[[], datetime], job: FulfilmentJob, context: ErasureContext
) -> bool:
    """Execute (or resume) the approved plan; True when it finished."""
    plan = session.scalar(select(ErasurePlan).where(ErasurePlan.job_id == job.id))
    request = job.request
    identities = identities_of(request)
    checkpoint = PlanCheckpoint(session, plan, job, clock, context.lease)
    try:
        result = execute_erasure(
            PlanSpec.from_json(plan.plan),
            context.dataset,
            identities,
            checkpoint,
            secret=context.secret,
            environ=context.environ,
            progress=checkpoint.progress,
        )
    except (ErasureError, SourceError) as failure:
        session.rollback()
        job = session.get(FulfilmentJob, job.id, populate_existing=True)
        now = clock()
        job.error = f"{type(failure).__name__}: {str(failure)[:300]}"
        job.claimed_until = None
        hopeless = isinstance(failure, ErasureError) or job.attempts >= MAX_ATTEMPTS
        if hopeless:
            job.status, job.finished_at = JobStatus.FAILED, now
            session.get(ErasurePlan, plan.id).status = PlanStatus.FAILED
        else:  # the batch rolled back on the source; the checkpoint says where to continue
            job.status, job.run_after = JobStatus.QUEUED, now + timedelta(minutes=2**job.attempts)
        record_event(
            session,
            Actor.system("erasure"),
            "erasure.failed",
            now,
            request,
            attempt=job.attempts,
            final=hopeless or None,
        )
        return False
    now = clock()
    plan.status, plan.result, plan.finished_at = PlanStatus.DONE, result.to_json(), now
    job.status, job.finished_at, job.claimed_until = JobStatus.DONE, now, None
    suppress(session, context.secret, now, identities, request)
    record_event(session, Actor.system("erasure"), "erasure.executed", now, request, **result.totals())
    session.flush()
    return True


def close_webhook_task(session: Session, now: datetime, job_ref: str, outcome: str) -> FulfilmentTask | None:
    """A webhook system's signed callback: its task is done, with what it reported."""
    task = session.scalar(select(FulfilmentTask).where(FulfilmentTask.external_ref == job_ref))
    if task is None:
        return None
    if task.status is TaskStatus.OPEN:
        task.status, task.done_at, task.note = TaskStatus.DONE, now, f"Confirmed by {task.system_key}: {outcome[:500]}"
        record_event(
            session,
            Actor.system(f"webhook {task.system_key}"),
            "erasure.webhook_confirmed",
            now,
            task.request,
            system=task.system_key,
        )
    session.flush()
    return task


def ensure_erased(session: Session, request: DataSubjectRequest) -> ErasurePlan:
    """Before a deletion request completes: the approved erasure ran and every task is confirmed."""
    plan = current_plan(session, request)
    if plan is None or plan.status is PlanStatus.PREPARED:
        raise DomainError("The erasure has to be prepared, approved and run before the request can complete.")
    if plan.status is not PlanStatus.DONE:
        raise DomainError("The erasure has not finished yet.")
    open_tasks = [t.title for t in tasks_of(session, request) if t.status is TaskStatus.OPEN]
    if open_tasks:
        raise DomainError(f"Confirm these first: {'; '.join(open_tasks)}.")
    return plan


def receipt(plan: ErasurePlan, tasks: list[FulfilmentTask], reference: str) -> str:
    """What was erased, what was kept and why, per system and table — never the data itself."""
    spec = PlanSpec.from_json(plan.plan)
    done = {(t["system"], t["table"]): t for t in plan.result.get("tables", [])}
    erased, kept = [], []
    for system in spec.systems:
        for table in system.tables:
            outcome = done.get((system.system, table.table), {})
            where = f"{system.name} — {table.label}"
            if outcome.get("deleted"):
                erased.append(f"- {where}: {outcome['deleted']} record(s) deleted")
            if outcome.get("updated"):
                erased.append(f"- {where}: personal details removed from {outcome['updated']} record(s)")
            reasons = {
                (f.legal_basis, f.retention) for f in (*table.fields, *table.kept_rows_fields) if f.action == "retain"
            }
            for basis, retention in sorted(reasons):
                columns = ", ".join(f.column for f in table.fields if f.action == "retain" and f.legal_basis == basis)
                kept.append(
                    f"- {where}: {columns} kept for {retention or 'the period the law requires'} "
                    f"({basis.replace('_', ' ')})"
                )
    lines = [f"Erasure receipt for request {reference}", "", "What we erased:", *(erased or ["- nothing was found"])]
    lines += ["", "What we kept, and why:", *(kept or ["- nothing"])]
    others = [
        f"- {t.title.split(' in ', 1)[-1] if ' in ' in t.title else t.system_key}: {t.note or 'done'}" for t in tasks
    ]
    if others:
        lines += ["", "Other systems:", *others]
    lines += [
        "",
        "So that we do not contact you again, we keep a one-way code of your email address and phone "
        "number on our do-not-contact list. It cannot be turned back into them.",
    ]
    return "\n".join(lines)

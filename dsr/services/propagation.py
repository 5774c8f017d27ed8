"""Propagation jobs: after a consent or restriction changes, bring each system that cares in line.

Jobs are queued in the transaction that records the change. The web layer runs the `sql` ones
straight after committing (the change takes effect at once); `flask dsr propagate-consent` (and the
scheduler) runs whatever is due, webhooks included, and retries failures with a growing wait.
A job writes the person's state as it is when the job runs, so order and repetition do not matter.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.dataset import Dataset, SystemKind
from dsr.domain.errors import DomainError
from dsr.encryption import InvalidToken
from dsr.fulfilment.consent_propagation import post_job, state_name, webhook_job, write_columns
from dsr.models import (
    ConsentEvent,
    DataSubject,
    ProcessingFlag,
    PropagationJob,
    PropagationScope,
    PropagationStatus,
)
from dsr.services.audit import record_event
from dsr.services.consent_state import consent_granted, is_restricted
from dsr.services.subjects import ConsentSetup, identities_of
from dsr.sources.webhook import WebhookJob

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=6)
ACTOR = Actor.system("propagation")


@dataclass(frozen=True)
class PropagationReport:
    done: int = 0
    retried: int = 0
    failed: int = 0


def queue_propagation(
    session: Session, now: datetime, dataset: Dataset, subject: DataSubject, scope: PropagationScope, key: str
) -> list[PropagationJob]:
    """One job per system that must hear of this change (a job already waiting is simply made due)."""
    jobs = []
    for system in dataset.systems_to_tell(scope.value, key):
        waiting = session.scalar(
            select(PropagationJob).where(
                PropagationJob.subject_id == subject.id,
                PropagationJob.system_key == system.key,
                PropagationJob.scope == scope,
                PropagationJob.key == key,
                PropagationJob.status == PropagationStatus.PENDING,
            )
        )
        if waiting is not None:
            waiting.run_after = min(waiting.run_after, now)
            jobs.append(waiting)
            continue
        job = PropagationJob(
            subject_id=subject.id, system_key=system.key, scope=scope, key=key, run_after=now, created_at=now
        )
        session.add(job)
        jobs.append(job)
    session.flush()
    return jobs


def queue_everything(session: Session, now: datetime, dataset: Dataset, subject: DataSubject) -> None:
    """After two records of one person merged: every topic and purpose they hold, everywhere."""
    topics = session.scalars(select(ConsentEvent.topic).where(ConsentEvent.subject_id == subject.id).distinct())
    for topic in list(topics):
        queue_propagation(session, now, dataset, subject, PropagationScope.CONSENT, topic)
    purposes = session.scalars(select(ProcessingFlag.purpose).where(ProcessingFlag.subject_id == subject.id).distinct())
    for purpose in list(purposes):
        queue_propagation(session, now, dataset, subject, PropagationScope.RESTRICTION, purpose)


def jobs_of(session: Session, subject: DataSubject, limit: int = 50) -> list[PropagationJob]:
    return list(
        session.scalars(
            select(PropagationJob)
            .where(PropagationJob.subject_id == subject.id)
            .order_by(PropagationJob.created_at.desc(), PropagationJob.id.desc())
            .limit(limit)
        )
    )


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(0, attempts - 1), LONGEST_RETRY)


def run_due(
    session: Session,
    now: datetime,
    setup: ConsentSetup,
    kinds: Collection[SystemKind] = (SystemKind.SQL, SystemKind.WEBHOOK),
    limit: int = 50,
    post: Callable[[WebhookJob], None] = post_job,
    environ: Mapping[str, str] | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> PropagationReport:
    """Run up to `limit` due jobs for systems of these kinds; flushes, the caller commits."""
    systems = [s.key for s in setup.dataset.systems if s.kind in kinds]
    due = session.scalars(
        select(PropagationJob)
        .where(
            PropagationJob.status == PropagationStatus.PENDING,
            PropagationJob.run_after <= now,
            PropagationJob.system_key.in_(systems),
        )
        .order_by(PropagationJob.run_after, PropagationJob.id)
        .limit(limit)
    ).all()
    outcomes = [_run(session, now, job, setup, post, environ, max_attempts) for job in due]
    session.flush()
    return PropagationReport(
        done=outcomes.count(PropagationStatus.DONE),
        retried=outcomes.count(PropagationStatus.PENDING),
        failed=outcomes.count(PropagationStatus.FAILED),
    )


def _run(
    session: Session,
    now: datetime,
    job: PropagationJob,
    setup: ConsentSetup,
    post: Callable[[WebhookJob], None],
    environ: Mapping[str, str] | None,
    max_attempts: int,
) -> PropagationStatus:
    job.attempts += 1
    subject = job.subject
    if job.scope is PropagationScope.CONSENT:
        on = consent_granted(session, subject, job.key)
    else:
        on = is_restricted(session, subject, job.key)
    try:
        system = next((s for s in setup.dataset.systems if s.key == job.system_key), None)
        if system is None:
            raise DomainError(f"{job.system_key} is no longer in the data inventory.")
        if on is None:  # nothing recorded for the topic (records merged away): nothing to write
            rows = 0
        elif system.kind is SystemKind.SQL:
            rows = write_columns(system, job.scope.value, job.key, on, identities_of(subject, setup.keys), environ)
        else:
            people = identities_of(subject, setup.keys)
            post(webhook_job(system, job.public_id, job.scope.value, job.key, on, people, now, environ))
            rows = None
    except (DomainError, InvalidToken) as failure:  # InvalidToken: the identifiers' encryption key is gone
        job.last_error = (str(failure) or type(failure).__name__)[:500]
        if job.attempts >= max_attempts:
            job.status, job.finished_at = PropagationStatus.FAILED, now
            record_event(session, ACTOR, "propagation.failed", now, subject=subject.public_id, system=job.system_key)
        else:
            job.run_after = now + retry_delay(job.attempts)
        return job.status
    job.status, job.finished_at, job.last_error = PropagationStatus.DONE, now, None
    job.outcome = "no_record" if on is None else state_name(job.scope.value, on)
    job.rows_changed = rows
    record_event(
        session,
        ACTOR,
        "propagation.done",
        now,
        subject=subject.public_id,
        system=job.system_key,
        key=job.key,
        outcome=job.outcome,
        rows=rows,
    )
    return job.status

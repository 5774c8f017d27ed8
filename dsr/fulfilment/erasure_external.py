"""Erasure in the systems no query reaches: signed jobs for `webhook` systems, tasks for `manual` ones.

The app queues each job in its outbox and records its `job_id`; the system calls back (signed, see
dsr.sources.webhook) to `callback_url(job_id)` with what it erased. Tasks are what a staff member does
by hand and confirms with a note.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from dsr.domain.dataset import Dataset, SubjectIdentities, SystemKind
from dsr.domain.requests import RequestType
from dsr.sources.manual import ManualTask, manual_tasks
from dsr.sources.webhook import WebhookJob, build_job


@dataclass(frozen=True)
class ErasureJob:
    job_id: str
    job: WebhookJob  # POST job.body with job.headers to job.url


def webhook_erasure_jobs(
    dataset: Dataset,
    identities: SubjectIdentities,
    callback_url: Callable[[str], str],
    now: datetime,
    *,
    request_reference: str,
    new_job_id: Callable[[], str] = lambda: secrets.token_urlsafe(16),
    environ: Mapping[str, str] | None = None,
) -> list[ErasureJob]:
    """One signed deletion job per `webhook` system; `callback_url(job_id)` is where it answers."""
    jobs = []
    for system in dataset.of_kind(SystemKind.WEBHOOK):
        job_id = new_job_id()
        job = build_job(
            system, job_id, request_reference, RequestType.DELETION, identities, callback_url(job_id), now, environ
        )
        jobs.append(ErasureJob(job_id, job))
    return jobs


def erasure_tasks(dataset: Dataset, identities: SubjectIdentities) -> list[ManualTask]:
    """One task per `manual` system: the deletion instructions and the identities to look for."""
    return manual_tasks(dataset, RequestType.DELETION, identities)

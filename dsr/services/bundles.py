"""A bundle's life after it is built: released on completion, downloaded a few times, then purged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.errors import DomainError
from dsr.models import Bundle, DataSubjectRequest, TaskStatus
from dsr.services.audit import record_event
from dsr.services.fulfilment import BUNDLE_JOBS, active_job, tasks_of


@dataclass(frozen=True)
class BundlePolicy:
    days: int = 7
    max_downloads: int = 3


def latest_bundle(session: Session, request: DataSubjectRequest) -> Bundle | None:
    return session.scalar(
        select(Bundle)
        .where(Bundle.request_id == request.id, Bundle.purged_at.is_(None))
        .order_by(Bundle.id.desc())
        .limit(1)
    )


def release_for_completion(
    session: Session, actor: Actor, now: datetime, request: DataSubjectRequest, policy: BundlePolicy
) -> Bundle | None:
    """For access and portability requests: check the bundle is complete and current, then release it."""
    if request.request_type not in BUNDLE_JOBS:
        return None
    open_tasks = [t.title for t in tasks_of(session, request) if t.status is TaskStatus.OPEN]
    if open_tasks:
        raise DomainError(f"Confirm the manual task(s) first: {'; '.join(open_tasks)}.")
    if active_job(session, request) is not None:
        raise DomainError("The data bundle is still being built.")
    bundle = latest_bundle(session, request)
    if bundle is None:
        raise DomainError("Build the data bundle before completing the request.")
    last_task = max((t.done_at for t in tasks_of(session, request) if t.done_at), default=None)
    if last_task is not None and last_task > bundle.created_at:
        raise DomainError("A manual task was confirmed after the bundle was built: rebuild it so it includes that.")
    bundle.released_at = now
    bundle.expires_at = now + timedelta(days=policy.days)
    bundle.max_downloads = policy.max_downloads
    record_event(session, actor, "bundle.released", now, request, expires=bundle.expires_at.isoformat())
    session.flush()
    return bundle


def download_refusal(bundle: Bundle | None, now: datetime) -> str | None:
    """Why this bundle cannot be downloaded now, or None when it can."""
    if bundle is None or bundle.released_at is None:
        return "There is no data file to download for this request."
    if bundle.purged_at is not None or (bundle.expires_at is not None and now >= bundle.expires_at):
        return "The download period has ended and the file has been deleted. You can make a new request."
    if bundle.downloads >= bundle.max_downloads:
        return (
            f"The file has been downloaded {bundle.max_downloads} times, the most we allow. You can make a new request."
        )
    return None


def record_download(session: Session, actor: Actor, now: datetime, bundle: Bundle) -> None:
    reason = download_refusal(bundle, now)
    if reason:
        raise DomainError(reason)
    bundle.downloads += 1
    record_event(session, actor, "bundle.downloaded", now, bundle.request, download=bundle.downloads)
    session.flush()


def purge_bundles(session: Session, now: datetime, directory: Path) -> int:
    """Delete files that are expired, used up, superseded by a newer build, or left on a closed request."""
    purged = 0
    for bundle in session.scalars(select(Bundle).where(Bundle.purged_at.is_(None)).order_by(Bundle.id)):
        latest = latest_bundle(session, bundle.request)
        done = (bundle.expires_at is not None and now >= bundle.expires_at) or bundle.downloads >= bundle.max_downloads
        superseded = bundle.released_at is None and latest is not None and latest.id != bundle.id
        abandoned = bundle.released_at is None and not bundle.request.is_open
        if done or superseded or abandoned:
            (directory / bundle.file_name).unlink(missing_ok=True)
            bundle.purged_at = now
            record_event(session, Actor.system("purge"), "bundle.purged", now, bundle.request)
            purged += 1
    session.flush()
    return purged

"""Two runners claiming fulfilment jobs at once (SKIP LOCKED on PostgreSQL/MariaDB, conditional claims on
SQLite): every due job is taken by exactly one of them, and a job whose runner died is taken over once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dsr.extensions import db
from dsr.models import FulfilmentJob, JobKind, JobStatus
from dsr.services.fulfilment import claim_job
from tests.factories import make_request

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
JOBS = 30


def queue_jobs(session, count: int) -> set[int]:
    request = make_request(session, NOW - timedelta(days=1))
    jobs = [
        FulfilmentJob(request_id=request.id, kind=JobKind.ACCESS_BUNDLE, run_after=NOW, created_at=NOW)
        for _ in range(count)
    ]
    session.add_all(jobs)
    session.commit()
    return {job.id for job in jobs}


def claim_all_at_once(app, runners: int, moment: datetime) -> Counter[int]:
    """Each runner claims, commits, and claims again until nothing is due; returns claims per job id."""
    claims: Counter[int] = Counter()
    errors: list[BaseException] = []
    start = threading.Barrier(runners)
    lock = threading.Lock()

    def runner() -> None:
        try:
            with app.app_context():  # its own session and connection, as a scheduler process has
                start.wait()
                give_up = time.monotonic() + 30
                while time.monotonic() < give_up:
                    job = claim_job(db.session, moment)
                    job_id = job.id if job is not None else None
                    db.session.commit()  # the claim is visible to the other runner from here
                    if job_id is None:
                        break
                    with lock:
                        claims[job_id] += 1
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=runner) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    return claims


def test_two_runners_at_once_claim_every_due_job_exactly_once(app, session):
    queued = queue_jobs(session, JOBS)
    claims = claim_all_at_once(app, 2, NOW)
    assert set(claims) == queued and set(claims.values()) == {1}
    session.expire_all()
    assert {job.status for job in session.scalars(select(FulfilmentJob))} == {JobStatus.RUNNING}


def test_jobs_whose_runner_died_are_taken_over_once_after_the_lease(app, session):
    queued = queue_jobs(session, JOBS)
    first = claim_all_at_once(app, 2, NOW)  # these runners then "die" holding every job
    assert set(first) == queued
    assert claim_all_at_once(app, 2, NOW + timedelta(minutes=1)) == Counter()  # leases still held
    after_lease = claim_all_at_once(app, 2, NOW + timedelta(hours=1))
    assert set(after_lease) == queued and set(after_lease.values()) == {1}
    session.expire_all()
    assert {job.attempts for job in session.scalars(select(FulfilmentJob))} == {2}

"""Scheduler wiring: jobs in APScheduler's store, restarts, `run-jobs --once`, no scheduler in web workers."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from dsr import create_app
from dsr.jobs import scheduler as wiring
from dsr.jobs.tasks import JOBS
from dsr.models import JobOutcome, JobRun, JobTrigger
from dsr.services.job_runs import KEEP_RUNS, next_run_times


@pytest.fixture
def paused(app, session):
    """Start a scheduler the way `flask dsr serve` does, but paused: it writes the store and runs nothing."""
    started = []

    def start() -> wiring.Background:
        scheduler = wiring.configure(wiring.Background(timezone=UTC), app)
        scheduler.start(paused=True)
        started.append(scheduler)
        return scheduler

    yield start
    for scheduler in started:
        if scheduler.running:
            scheduler.shutdown(wait=False)


def test_every_job_is_stored_with_its_next_run_and_new_jobs_run_at_once(paused, session):
    before = datetime.now(UTC)
    paused().shutdown(wait=False)
    stored = next_run_times(session)
    assert set(stored) == set(JOBS)
    assert all(before - timedelta(seconds=1) <= moment <= datetime.now(UTC) for moment in stored.values())


def test_a_restart_keeps_each_jobs_place_unless_its_interval_got_shorter(app, paused, session, monkeypatch):
    first = paused()
    in_ten_minutes = datetime.now(UTC) + timedelta(minutes=10)
    first.modify_job("purge_bundles", next_run_time=in_ten_minutes)
    first.modify_job("expire_requests", next_run_time=in_ten_minutes)
    first.add_job(f"{wiring.__name__}:run_scheduled", "interval", hours=1, args=["retired"], id="retired")
    first.shutdown(wait=False)

    monkeypatch.setitem(app.config, "DSR_EXPIRY_INTERVAL_SECONDS", 60)  # now shorter than the wait
    paused().shutdown(wait=False)

    stored = next_run_times(session)
    assert abs(stored["purge_bundles"] - in_ten_minutes) < timedelta(seconds=1)  # kept its place
    assert stored["expire_requests"] <= datetime.now(UTC) + timedelta(seconds=60)  # the new interval wins
    assert "retired" not in stored  # jobs no longer defined are dropped


def test_a_scheduled_run_is_recorded_with_its_outcome_and_process(app, session):
    wiring.configure(wiring.Background(timezone=UTC), app)
    wiring.run_scheduled("purge_bundles")
    run = session.scalar(select(JobRun))
    assert (run.job_id, run.trigger, run.outcome) == ("purge_bundles", JobTrigger.SCHEDULED, JobOutcome.OK)
    assert run.worker.endswith(f":{os.getpid()}")


def test_run_jobs_once_records_every_job_and_fails_the_command_when_one_fails(app, session, monkeypatch):
    from tests.test_cli import run

    result = run(app, "run-jobs", "--once")
    assert result.exit_code == 0, result.output
    assert f"ran deadline_reminders: {JobOutcome.OK}" in result.output
    runs = session.scalars(select(JobRun)).all()
    assert {r.job_id for r in runs} == set(JOBS) and {r.trigger for r in runs} == {JobTrigger.ONCE}

    def broken(app):
        raise RuntimeError("cannot reach ada@example.org")

    monkeypatch.setitem(JOBS, "purge_bundles", (broken, "DSR_PURGE_INTERVAL_SECONDS"))
    result = run(app, "run-jobs", "--once")
    assert result.exit_code == 1
    assert "ran purge_bundles: RuntimeError at tests/jobs/test_scheduler.py:" in result.output
    assert "ada@example.org" not in result.output  # a failure names its type and line, never its message
    assert "ran staff_digest: ok" in result.output  # one failure does not stop the others


def test_only_the_newest_runs_of_a_job_are_kept(app, session, clock):
    for minute in range(KEEP_RUNS + 5):
        clock.set(datetime(2026, 3, 2, 9, minute, tzinfo=UTC))
        wiring.run_recorded(app, "purge_bundles", lambda app: None, JobTrigger.ONCE)
    kept = session.scalars(select(JobRun.started_at).order_by(JobRun.started_at)).all()
    assert len(kept) == KEEP_RUNS and kept[0] == datetime(2026, 3, 2, 9, 5, tzinfo=UTC)


def test_the_app_factory_starts_no_scheduler(session):
    web = create_app("test")
    web.test_client().get("/healthz")
    assert not [t for t in threading.enumerate() if t.name.startswith("APScheduler")]
    assert next_run_times(session) == {}


def test_closed_requests_past_their_record_keeping_period_are_minimised_by_the_job(app, session, clock):
    from dsr.domain.actors import Actor
    from dsr.domain.lifecycle import Action
    from dsr.jobs.tasks import minimise_requests
    from dsr.services.minimisation import MINIMISED
    from dsr.services.requests import transition
    from tests.factories import make_request

    closed_at = datetime(2024, 1, 10, 9, tzinfo=UTC)
    old, recent = make_request(session, closed_at), make_request(session, closed_at, email="grace@example.org")
    transition(session, Actor.system("tests"), closed_at, old, Action.REJECT)
    transition(session, Actor.system("tests"), closed_at + timedelta(days=60), recent, Action.REJECT)
    session.commit()

    clock.set(datetime(2026, 2, 1, tzinfo=UTC))  # 24 months after the first closed, not the second
    minimise_requests(app)
    session.expire_all()
    assert old.requester_name == MINIMISED and "ada@example.org" not in old.requester_email
    assert recent.requester_email == "grace@example.org"

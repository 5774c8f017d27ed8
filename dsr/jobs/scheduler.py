"""APScheduler wiring: inside `flask dsr serve` for development, or `flask dsr scheduler` alone.

Only these two commands start a scheduler. create_app only wires, so gunicorn workers never
schedule; `flask dsr run-jobs --once` runs each job once without one.

Definitions and state. What runs and how often is code and configuration: dsr.jobs.tasks.JOBS and
the DSR_*_INTERVAL_SECONDS settings. The state lives in APScheduler 3's SQLAlchemyJobStore, in the
app database (table apscheduler_jobs, created by migration 0007): each job's trigger and next run
time. A scheduler process writes the definitions into the store as it starts, keeping a job's
stored next run time when that is sooner than one interval away (a restart neither runs everything
at once nor pushes a job back a whole interval; a time already past runs at once), and removes jobs
that are no longer defined. The stored job function is a text reference to run_scheduled with the
job id as its only argument, so a stored job is picklable and loads in any process. Outcomes go to
job_run (dsr.jobs.runs); Admin → Jobs reads them beside the store's next run times.

Several scheduler processes. APScheduler 3's job store is not a distributed lock: two processes
sharing it can both run a job whose time has come (each reads it as due before either writes the
next run time). That is allowed, because exactly-once is guaranteed by the work, not the scheduler:
- reminders, escalations and digests are recorded under a unique key in the same transaction (and
  savepoint) as their outbox message (dsr.services.reminders.send_once): the second run's insert
  fails on the index and it sends nothing; a run killed before its commit leaves neither behind;
- outbox messages and fulfilment jobs are claimed with row locks under a lease (FOR UPDATE SKIP
  LOCKED on PostgreSQL and MariaDB, a conditional UPDATE on SQLite; dsr.notify.delivery,
  dsr.services.fulfilment.claim_job);
- expiry, purge and minimisation move rows from one state to the next, so a second run finds
  nothing left to do.
max_instances=1 only stops a process overlapping itself. coalesce with no misfire grace time means
a process that was stopped runs each missed job once when it is back.

Stopping. `flask dsr scheduler` stops on SIGTERM or SIGINT after the jobs it is running reach a safe
point (dsr.jobs.stopping) and have committed; without that, SIGTERM would kill it mid-send, and a
message the mail server had accepted but the outbox had not yet recorded would go out again.
"""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta

import click
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_STOPPED, BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import Engine, delete, select

from dsr.extensions import db
from dsr.jobs.reminders import SENDS_AT, reminder_settings
from dsr.jobs.runs import run_recorded
from dsr.jobs.stopping import request_stop, stopping
from dsr.jobs.tasks import JOBS
from dsr.models import JobTrigger, scheduler_jobs

STORE = "default"
_configured: dict[str, Flask] = {}  # the app this process schedules for (stored jobs cannot carry it)


def run_scheduled(job_id: str) -> None:
    """What the job store calls: the job, recorded, for the app this process was configured with."""
    app = _configured["app"]
    function, _ = JOBS[job_id]
    run_recorded(app, job_id, function, JobTrigger.SCHEDULED)


def configure(scheduler: BaseScheduler, app: Flask) -> BaseScheduler:
    _configured["app"] = app
    with app.app_context():
        reminder_settings(app)  # a bad DSR_REMINDER_* setting stops the scheduler now, not at 09:00
        engine = db.engine
    stored = _sync_store(engine)
    scheduler.add_jobstore(SQLAlchemyJobStore(engine=engine, tablename=scheduler_jobs.name), STORE)
    now = datetime.now(UTC)
    for job_id, (_, interval_key) in JOBS.items():
        seconds = int(app.config[interval_key])
        soonest = now + timedelta(seconds=seconds)
        scheduler.add_job(
            f"{__name__}:run_scheduled",
            "interval",
            seconds=seconds,
            args=[job_id],
            id=job_id,
            name=job_id,
            jobstore=STORE,
            next_run_time=min(stored.get(job_id) or now, soonest),
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            replace_existing=True,
        )
    return scheduler


def _sync_store(engine: Engine) -> dict[str, datetime]:
    """Drop stored jobs that are no longer defined; return the others' stored next run times."""
    with engine.begin() as connection:
        connection.execute(delete(scheduler_jobs).where(scheduler_jobs.c.id.not_in(list(JOBS))))
        rows = connection.execute(select(scheduler_jobs.c.id, scheduler_jobs.c.next_run_time)).all()
    return {job_id: datetime.fromtimestamp(stamp, UTC) for job_id, stamp in rows if stamp is not None}


def schedule_text(app: Flask, job_id: str, timezone: str) -> str:
    """ "every 5 minutes, sending from 09:00 (Asia/Kolkata)", for Admin → Jobs."""
    seconds = int(app.config[JOBS[job_id][1]])
    every = _duration(seconds)
    if job_id in SENDS_AT:
        return f"every {every}, sending from {app.config[SENDS_AT[job_id]]} ({timezone})"
    return f"every {every}"


def _duration(seconds: int) -> str:
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}s" if count != 1 else unit
    return f"{seconds} seconds" if seconds != 1 else "second"


class _StopsCleanly:
    """APScheduler 3 makes one more pass over due jobs after shutdown() wakes its loop; with the
    executors gone each job fails to submit and loses its turn (logged as an error). Skip that pass."""

    state: int

    def _process_jobs(self):
        if self.state == STATE_STOPPED:
            return None
        return super()._process_jobs()  # type: ignore[misc]


class Background(_StopsCleanly, BackgroundScheduler):
    pass


class Blocking(_StopsCleanly, BlockingScheduler):
    pass


def start_background(app: Flask) -> BackgroundScheduler:
    scheduler = configure(Background(timezone=UTC), app)
    scheduler.start()
    return scheduler


def run_blocking(app: Flask) -> None:
    """Run the jobs until SIGTERM or SIGINT; then return once the jobs in hand have finished and committed."""
    pool = ThreadPoolExecutor()
    scheduler = configure(Blocking(timezone=UTC, executors={"default": pool}), app)

    def stop(signum: int, _frame: object) -> None:
        if stopping():
            return
        request_stop()  # running jobs stop at their next safe point
        click.echo(f"Stopping ({signal.Signals(signum).name}): finishing the work in hand.", err=True)
        scheduler.shutdown(wait=False)  # a signal handler must not block: the wait is below

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    scheduler.start()  # returns once stop() has shut the scheduler down
    pool.shutdown(wait=True)
    click.echo("Scheduler stopped.", err=True)

"""Running one job and keeping its record: outcome, duration, which process, who asked.

Every way a job runs goes through run_recorded: a scheduler process, `flask dsr run-jobs --once`
and an admin's "run now". A failure is recorded as the exception's type and the line that raised
it, never its message (messages can quote personal data), and the next run simply tries again:
every job is safe to repeat (see dsr.jobs.scheduler).
"""

from __future__ import annotations

import logging
import os
import socket
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from dsr.domain.actors import Actor
from dsr.extensions import db
from dsr.models import JobOutcome, JobTrigger
from dsr.services.job_runs import record_run
from dsr.web.sessions import now

log = logging.getLogger(__name__)
PROJECT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RunResult:
    job_id: str
    outcome: JobOutcome
    seconds: float
    error: str | None = None


def run_recorded(
    app: Flask,
    job_id: str,
    function: Callable[[Flask], object],
    trigger: JobTrigger,
    actor: Actor | None = None,
) -> RunResult:
    with app.app_context():
        started_at = now()
    began = time.monotonic()
    error = None
    try:
        function(app)
    except Exception as exc:  # noqa: BLE001 - recorded; the job is safe to run again next time
        error = describe_failure(exc)
        log.error("job %s failed: %s", job_id, error)
    seconds = time.monotonic() - began
    try:
        with app.app_context():
            record_run(db.session, job_id, trigger, started_at, round(seconds * 1000), error, worker_name(), actor)
            db.session.commit()
    except SQLAlchemyError as exc:
        log.warning("job %s: its run could not be recorded (%s)", job_id, type(exc).__name__)
    return RunResult(job_id, JobOutcome.ERROR if error else JobOutcome.OK, seconds, error)


def describe_failure(exc: BaseException) -> str:
    """ "OperationalError at dsr/services/reminders.py:120": the type and our innermost frame."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [frame for frame in frames if _inside_project(frame.filename)] or frames
    if not ours:
        return type(exc).__name__
    frame = ours[-1]
    path = Path(frame.filename)
    shown = path.relative_to(PROJECT) if _inside_project(frame.filename) else path.name
    return f"{type(exc).__name__} at {shown}:{frame.lineno}"


def _inside_project(filename: str) -> bool:
    path = Path(filename).resolve()
    return path.is_relative_to(PROJECT) and ".venv" not in path.parts and "site-packages" not in path.parts


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"

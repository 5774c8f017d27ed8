"""Real `flask dsr scheduler` processes on one PostgreSQL database, delivering to a real SMTP server:
two at once send every reminder exactly once. (test_scheduler_restarts.py stops and kills one mid-run.)
Time is real here (these are other processes), so the reminders go out at 00:00 local time and every
request is due within the week. See tests/jobs/processes.py for the database.
"""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import select

from dsr.extensions import db
from dsr.models import JobRun
from tests.jobs.processes import SchedulerProcess, scheduler_env, shared_fixture, wait_for  # noqa: F401
from tests.jobs.reminder_load import clear_of_midnight, outbox_settled, received, seed, staff


def test_two_scheduler_processes_deliver_every_reminder_exactly_once(shared, smtp_server, mailbox, tmp_path):
    app, url = shared
    host, port, _ = smtp_server
    people = staff(db.session)
    today = clear_of_midnight()
    expected = seed(db.session, people, today, due_soon=90, overdue=6, unassigned_every=3)
    env = scheduler_env(app, url, (host, port))
    processes = [SchedulerProcess(env, tmp_path / f"scheduler-{n}.log") for n in (1, 2)]
    try:
        wanted = sum(expected.reminders.values()) + len(expected.digests)
        wait_for(lambda: len(mailbox.messages) >= wanted, 60, f"{wanted} messages", processes)
        wait_for(outbox_settled, 30, "an empty outbox", processes)
        time.sleep(1.5)  # both keep running: anything sent twice would arrive now
    finally:
        for process in processes:
            process.stop()

    got = received(mailbox.messages)
    assert got.reminders == expected.reminders  # every reminder, each exactly once
    assert got.escalated == Counter(expected.overdue)  # each overdue request escalated once today
    assert got.digests == Counter(expected.digests)
    assert len({str(m["Message-ID"]) for m in mailbox.messages}) == got.total  # no message arrived twice
    workers = db.session.scalars(select(JobRun.worker).where(JobRun.job_id == "deadline_reminders")).all()
    assert len(set(workers)) == 2, "both processes should have run the reminder sweep"

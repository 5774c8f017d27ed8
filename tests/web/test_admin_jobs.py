"""Admin → Jobs: every job with its schedule, last run, outcome and next run; "run now" with CSRF."""

from __future__ import annotations

import re
from datetime import UTC

from sqlalchemy import select

from dsr.jobs import scheduler as wiring
from dsr.jobs.tasks import JOBS
from dsr.models import AuditEvent, JobOutcome, JobRun, JobTrigger
from tests.web.conftest import post_form


def job_row(html: str, job_id: str) -> str:
    return re.search(rf'<tr id="job-{job_id}">.*?</tr>', html, re.S).group(0)


def test_every_job_is_listed_with_its_schedule_and_nothing_has_run_yet(admin_client):
    html = admin_client.get("/admin/jobs").get_data(as_text=True)
    for job_id in JOBS:
        assert f'id="job-{job_id}"' in html
    reminders = job_row(html, "deadline_reminders")
    assert "every 5 minutes, sending from 09:00 (Asia/Kolkata)" in reminders
    assert "7, 3 and 1 days before the due date and on it" in reminders  # what the job does
    assert "never" in reminders and "no scheduler process has started" in reminders
    assert "every 10 seconds" in job_row(html, "deliver_outbox")
    assert 'href="/admin/jobs"' in admin_client.get("/admin/").get_data(as_text=True)  # the card on Admin


def test_run_now_runs_the_job_records_who_asked_and_shows_the_outcome(admin_client, admin_user, session, clock):
    response = post_form(admin_client, "/admin/jobs/staff_digest/run", {}, token_from="/admin/jobs", follow=True)
    html = response.get_data(as_text=True)
    assert "staff_digest ran in" in html
    row = job_row(html, "staff_digest")
    assert "manual" in row and "badge-ok" in row
    run = session.scalar(select(JobRun))
    assert (run.trigger, run.outcome, run.requested_by_id) == (JobTrigger.MANUAL, JobOutcome.OK, admin_user.id)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "job.run_now"))
    assert event.actor_user_id == admin_user.id and event.details == {"job": "staff_digest", "outcome": "ok"}


def test_a_failure_is_shown_by_type_and_line_without_its_message(admin_client, monkeypatch):
    def broken(app):
        raise LookupError("no bundle for ada@example.org")

    monkeypatch.setitem(JOBS, "purge_bundles", (broken, "DSR_PURGE_INTERVAL_SECONDS"))
    response = post_form(admin_client, "/admin/jobs/purge_bundles/run", {}, token_from="/admin/jobs", follow=True)
    html = response.get_data(as_text=True)
    assert "purge_bundles failed after" in html
    row = job_row(html, "purge_bundles")
    assert "badge-overdue" in row and "LookupError at tests/web/test_admin_jobs.py:" in row
    assert "ada@example.org" not in html


def test_next_runs_come_from_the_scheduler_store(admin_client, app):
    scheduler = wiring.configure(wiring.Background(timezone=UTC), app)
    scheduler.start(paused=True)
    scheduler.shutdown(wait=False)
    row = job_row(admin_client.get("/admin/jobs").get_data(as_text=True), "deadline_reminders")
    assert "no scheduler process has started" not in row
    assert re.search(r"\d{1,2} \w+ \d{4}, \d\d:\d\d</td>\s*<td>\s*<form", row)


def test_an_unknown_job_is_not_found(admin_client):
    assert post_form(admin_client, "/admin/jobs/rm-rf/run", {}, token_from="/admin/jobs").status_code == 404

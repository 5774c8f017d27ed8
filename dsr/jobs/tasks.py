"""Job functions and the JOBS table. Each opens its own app context and commits its work, batch by batch."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from flask import Flask

from dsr.encryption import derived_key
from dsr.extensions import db
from dsr.jobs.reminders import (
    acknowledgement_clock,
    deadline_reminders,
    extension_window,
    overdue_escalation,
    staff_digest,
)
from dsr.jobs.stopping import stopping
from dsr.models import JobKind, JobTrigger
from dsr.notify.delivery import deliver_due
from dsr.notify.mailers import mailer_from_config
from dsr.notify.sms import sms_from_config
from dsr.services.attachments import UploadStore
from dsr.services.bundles import purge_bundles
from dsr.services.erasure import run_erasure_job
from dsr.services.fulfilment import claim_job, run_bundle_job
from dsr.services.minimisation import minimise_closed
from dsr.services.propagation import run_due
from dsr.services.requests import expire_unverified
from dsr.web.consent import consent_setup
from dsr.web.sessions import bundle_context, erasure_context

if TYPE_CHECKING:
    from dsr.jobs.runs import RunResult

log = logging.getLogger(__name__)


def app_now(app: Flask) -> datetime:
    override = app.config.get("DSR_NOW")
    return override() if callable(override) else datetime.now(UTC)


def deliver_outbox(app: Flask, batch_size: int = 50, budget_seconds: float = 60) -> None:
    """Sends the outbox's due emails and text messages, batch after batch until none is left."""
    with app.app_context():
        lease = timedelta(seconds=app.config["DSR_OUTBOX_LEASE_SECONDS"])
        mailer, sms = mailer_from_config(app.config), sms_from_config(app.config)
        sent = retried = failed = 0
        give_up = time.monotonic() + budget_seconds
        while True:  # a 09:00 burst of reminders goes out now, not 50 per interval
            report = deliver_due(db.session, app_now(app), mailer, sms, batch_size, lease=lease, should_stop=stopping)
            db.session.commit()
            sent, retried, failed = sent + report.sent, retried + report.retried, failed + report.failed
            if report.sent + report.retried + report.failed < batch_size or time.monotonic() > give_up or stopping():
                break
        if sent or retried or failed:
            log.info("outbox: %s sent, %s to retry, %s failed", sent, retried, failed)


def expire_requests(app: Flask) -> None:
    """Closes requests whose identity was not verified in time."""
    with app.app_context():
        expired = expire_unverified(db.session, app_now(app), app.config["DSR_VERIFICATION_WINDOW_DAYS"])
        db.session.commit()
        if expired:
            log.info("expired %s unverified request(s)", expired)


def run_fulfilment(app: Flask, max_jobs: int = 5) -> None:
    """Build queued bundles and run approved erasures, one job at a time, until none is due (or max_jobs)."""
    with app.app_context():
        bundles, erasures = bundle_context(), erasure_context()
        for _ in range(max_jobs):
            if stopping():
                return
            job = claim_job(db.session, app_now(app), bundles.lease)
            db.session.commit()
            if job is None:
                return
            if job.kind is JobKind.ERASURE:
                run_erasure_job(db.session, lambda: app_now(app), job, erasures)
            else:
                run_bundle_job(db.session, lambda: app_now(app), job, bundles)
            db.session.commit()


def propagate_consent(app: Flask) -> None:
    """Sends withdrawals, grants and restrictions to the systems that still need them (retries included)."""
    with app.app_context():
        run_due(db.session, app_now(app), consent_setup(), max_attempts=app.config["DSR_PROPAGATION_MAX_ATTEMPTS"])
        db.session.commit()


def purge_old_bundles(app: Flask) -> None:
    """Deletes bundle files that expired, were used up, superseded or abandoned."""
    with app.app_context():
        purged = purge_bundles(db.session, app_now(app), Path(app.config["DSR_BUNDLE_DIR"]))
        db.session.commit()
        if purged:
            log.info("purged %s bundle file(s)", purged)


def minimise_requests(app: Flask, batch_size: int = 500) -> None:
    """Minimises closed requests past their record-keeping period (DSR_RECORDS_MONTHS)."""
    with app.app_context():
        # Keyed with the suppression key, which never changes (config.py, DSR_SUPPRESSION_KEY).
        key, months, total = derived_key(app.config, "suppression"), app.config["DSR_RECORDS_MONTHS"], 0
        uploads = UploadStore.from_config(app.config)  # attached files go with the rest
        while True:
            done = minimise_closed(db.session, app_now(app), months, key, batch_size, uploads)
            db.session.commit()
            total += done
            if done < batch_size or stopping():
                break
        if total:
            log.info("minimised %s closed request(s)", total)


JOBS = {
    "deliver_outbox": (deliver_outbox, "DSR_OUTBOX_INTERVAL_SECONDS"),
    "expire_requests": (expire_requests, "DSR_EXPIRY_INTERVAL_SECONDS"),
    "run_fulfilment": (run_fulfilment, "DSR_FULFILMENT_INTERVAL_SECONDS"),
    "propagate_consent": (propagate_consent, "DSR_FULFILMENT_INTERVAL_SECONDS"),
    "purge_bundles": (purge_old_bundles, "DSR_PURGE_INTERVAL_SECONDS"),
    "deadline_reminders": (deadline_reminders, "DSR_REMINDER_INTERVAL_SECONDS"),
    "overdue_escalation": (overdue_escalation, "DSR_REMINDER_INTERVAL_SECONDS"),
    "acknowledgement_clock": (acknowledgement_clock, "DSR_REMINDER_INTERVAL_SECONDS"),
    "extension_window": (extension_window, "DSR_REMINDER_INTERVAL_SECONDS"),
    "staff_digest": (staff_digest, "DSR_REMINDER_INTERVAL_SECONDS"),
    "minimise_requests": (minimise_requests, "DSR_PURGE_INTERVAL_SECONDS"),
}


def run_all_once(app: Flask) -> list[RunResult]:
    """Every job once, in order, each recorded on Admin → Jobs (for cron users and tests)."""
    from dsr.jobs.runs import run_recorded

    return [run_recorded(app, job_id, function, JobTrigger.ONCE) for job_id, (function, _) in JOBS.items()]

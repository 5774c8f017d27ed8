"""The staff-reminder jobs: deadline reminders, overdue escalation, the acknowledgement clock, the
extension-notice window and the daily digest. Each looks for work every DSR_REMINDER_INTERVAL_SECONDS
and sends what is due at the configured local time (the services decide; see dsr.domain.reminders).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy.orm import Session

from config import ConfigurationError
from dsr.domain.calendars import calendar_for
from dsr.domain.errors import DomainError
from dsr.domain.reminders import ReminderSchedule, parse_days, parse_time
from dsr.extensions import db
from dsr.jobs.stopping import stopping
from dsr.services.digest import send_digests
from dsr.services.reminders import (
    ReminderSettings,
    escalate_overdue,
    remind_acknowledgements,
    remind_extension_window,
    send_due_reminders,
)
from dsr.web.public.requester import external_url
from dsr.web.sessions import now, organisation

log = logging.getLogger(__name__)

Sweep = Callable[[Session, datetime, ReminderSettings], int]

# The local time each job sends at (Admin → Jobs shows it next to the interval).
SENDS_AT = {
    "deadline_reminders": "DSR_REMINDER_TIME",
    "overdue_escalation": "DSR_REMINDER_TIME",
    "acknowledgement_clock": "DSR_REMINDER_TIME",
    "extension_window": "DSR_REMINDER_TIME",
    "staff_digest": "DSR_DIGEST_TIME",
}


def reminder_settings(app: Flask) -> ReminderSettings:
    """From the DSR_REMINDER_* settings and the profile's time zone (call inside an app context)."""
    config = app.config
    try:
        timezone = ZoneInfo(organisation().timezone)
        working = calendar_for(config["DSR_REMINDER_HOLIDAYS"] or "")
        send_at = parse_time(config["DSR_REMINDER_TIME"])

        def schedule(days: tuple[int, ...]) -> ReminderSchedule:
            return ReminderSchedule(days, send_at, timezone, working)

        due = schedule(parse_days(config["DSR_REMINDER_DAYS"]))
        acknowledge = schedule(parse_days(config["DSR_ACK_REMINDER_DAYS"]))
        extension = schedule(parse_days(str(config["DSR_EXTENSION_REMINDER_DAYS"])))
        digest_at = parse_time(config["DSR_DIGEST_TIME"])
    except (ValueError, DomainError) as exc:
        raise ConfigurationError(f"Reminder settings: {exc}") from None
    return ReminderSettings(
        due=due,
        acknowledge=acknowledge,
        extension=extension,
        digest_at=digest_at,
        request_url=lambda reference: external_url("staff.detail", reference=reference),
        queue_url=external_url("staff.home"),
    )


def _sweep(app: Flask, label: str, sweep: Sweep) -> None:
    """Call the sweep, committing after each batch, until it finds nothing more to send."""
    with app.app_context():
        settings = reminder_settings(app)
        total = 0
        while True:
            recorded = sweep(db.session, now(), settings)
            db.session.commit()
            total += recorded
            if not recorded or stopping():
                break
        if total:
            log.info("%s: %s reminder(s) recorded", label, total)


def deadline_reminders(app: Flask) -> None:
    """Reminds the assignee (or all staff, if unassigned) 7, 3 and 1 days before the due date and on it (by default)."""
    _sweep(app, "deadline reminders", send_due_reminders)


def overdue_escalation(app: Flask) -> None:
    """Tells the admins, once a day, about every overdue request."""
    _sweep(app, "overdue escalation", escalate_overdue)


def acknowledgement_clock(app: Flask) -> None:
    """Reminds staff before a request's receipt must be acknowledged (CCPA), and admins once it was missed."""
    _sweep(app, "acknowledgement clock", remind_acknowledgements)


def extension_window(app: Flask) -> None:
    """Reminds staff when the last day to send an extension notice is near (GDPR, CCPA), for unextended requests."""
    _sweep(app, "extension window", remind_extension_window)


def staff_digest(app: Flask) -> None:
    """Sends each staff member a daily digest on working days: their open requests and what is due this week."""
    _sweep(app, "staff digest", send_digests)

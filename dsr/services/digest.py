"""The daily digest: each active staff member's open requests and what is due this week.

It goes out once per person per working day, from the digest time in the organisation's time zone,
under the same once-only keys as the reminders (dsr.services.reminders.send_once). A person with
nothing open and nothing due gets no email, but the day is recorded as done for them. A day the
scheduler missed entirely is not sent the next morning: yesterday's digest is no use today.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from dsr.domain.reminders import DIGEST, ReminderKey
from dsr.models import DataSubjectRequest, OutboxMessage, StaffUser
from dsr.notify.outbox import queue_email
from dsr.services.queue import visible_to
from dsr.services.reminders import LIMIT, ReminderSettings, active_staff, already_sent, send_once

R = DataSubjectRequest
LISTED = 25  # requests listed per section; the rest are counted
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Digest:
    today: date
    mine: list[DataSubjectRequest]
    mine_total: int
    unassigned: list[DataSubjectRequest]  # due within the week (or overdue), nobody assigned
    unassigned_total: int

    @property
    def is_empty(self) -> bool:
        return not self.mine_total and not self.unassigned_total


def digest_for(session: Session, person: StaffUser, today: date) -> Digest:
    """Two short index ranges: the person's open requests, and unassigned ones due by a week from today."""
    mine = select(R).where(R.assignee_id == person.id, R.is_open == true())
    soon = visible_to(select(R).where(R.is_open == true(), R.due_on <= today + WEEK, R.assignee_id.is_(None)), person)
    return Digest(
        today=today,
        mine=list(session.scalars(mine.order_by(R.due_on, R.id).limit(LISTED))),
        mine_total=session.scalar(select(func.count()).select_from(mine.subquery())) or 0,
        unassigned=list(session.scalars(soon.order_by(R.due_on, R.id).limit(LISTED))),
        unassigned_total=session.scalar(select(func.count()).select_from(soon.subquery())) or 0,
    )


def send_digests(session: Session, now: datetime, settings: ReminderSettings, limit: int = LIMIT) -> int:
    """Today's digest for everyone who has not had it; returns how many people were handled."""
    local = settings.due.local_now(now)
    today = local.date()
    if local.time() < settings.digest_at or not settings.due.working.is_working_day(today):
        return 0
    keys = {ReminderKey(DIGEST, person.id, on_day=today): person for person in active_staff(session)}
    done = already_sent(session, (key.text for key in keys))
    handled = 0
    for key, person in keys.items():
        if handled >= limit:
            break
        if key.text in done:
            continue
        digest = digest_for(session, person, today)

        def queue(person: StaffUser = person, digest: Digest = digest) -> OutboxMessage | None:
            if digest.is_empty:
                return None
            context = {
                "recipient": person,
                "digest": digest,
                "week_end": today + WEEK,
                "request_url": settings.request_url,
                "queue_url": settings.queue_url,
            }
            return queue_email(session, now, to=person.email, template="staff_digest", context=context)

        handled += send_once(session, now, [key], queue)
    return handled

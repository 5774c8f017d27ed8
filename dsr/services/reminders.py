"""Deadline reminders, overdue escalation, the acknowledgement clock and the extension-notice window.

Exactly once: each reminder has a key (dsr.domain.reminders.ReminderKey) stored under a unique
index in the same transaction, and the same savepoint, as its outbox message. Whoever inserts the
key first sends the message; anyone else (a second scheduler process, a rerun after a crash, an
admin's "run now") fails on the index, rolls back to the savepoint and sends nothing. A crash before
the commit loses both the key and the message, so the next sweep sends it. Candidates are walked
in one global order (date, request, recipient), so two sweeps racing for the same keys never
deadlock.

Cost follows the due count, not the table: every sweep is a range on an index starting with
is_open (due_on, or acknowledge_by), and the keys already sent are looked up by the unique index.
The sweeps flush and never commit; each call handles at most `limit` reminders and the job commits
between calls until a call finds nothing more to send.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, exists, select, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dsr.domain.reminders import (
    ACK_MISSED,
    ACK_MISSED_LOOKBACK,
    EXTENSION,
    OVERDUE,
    ReminderKey,
    ReminderSchedule,
    ack_kind,
    due_kind,
)
from dsr.domain.rules import find_rule
from dsr.models import DataSubjectRequest, OutboxMessage, RequestPause, SentReminder, StaffUser
from dsr.notify.outbox import queue_email
from dsr.services.rules import load_rules

R = DataSubjectRequest
LIMIT = 200
KEY_CHUNK = 500  # keys per IN (…) lookup


@dataclass(frozen=True)
class ReminderSettings:
    due: ReminderSchedule  # before the due date (7, 3, 1, 0), and the daily overdue escalation
    acknowledge: ReminderSchedule  # before the acknowledgement date
    extension: ReminderSchedule  # before the last day an extension notice can go out
    digest_at: time
    request_url: Callable[[str], str]  # reference -> the request's staff page
    queue_url: str


@dataclass(frozen=True)
class Planned:
    key: ReminderKey
    request: DataSubjectRequest
    recipient: StaffUser


def active_staff(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).where(StaffUser.active == true()).order_by(StaffUser.id)))


def recipients_for(request: DataSubjectRequest, staff: list[StaffUser]) -> list[StaffUser]:
    """The assignee; when nobody (active) is assigned, every active account that may see the request."""
    if request.assignee is not None and request.assignee.active:
        return [request.assignee]
    return [person for person in staff if person.is_admin or not request.confidential]


def escalation_recipients(staff: list[StaffUser]) -> list[StaffUser]:
    """The admins; everyone active when there is no active admin, so an escalation is never dropped."""
    return [person for person in staff if person.is_admin] or staff


def already_sent(session: Session, keys: Iterable[str]) -> set[str]:
    wanted = list(keys)
    found: set[str] = set()
    for start in range(0, len(wanted), KEY_CHUNK):
        chunk = wanted[start : start + KEY_CHUNK]
        found.update(session.scalars(select(SentReminder.key).where(SentReminder.key.in_(chunk))))
    return found


def send_once(
    session: Session, now: datetime, keys: list[ReminderKey], queue: Callable[[], OutboxMessage | None]
) -> bool:
    """Queue the message and record its keys as one unit; False when another run got there first."""
    try:
        with session.begin_nested():
            message = queue()
            session.add_all(
                SentReminder(
                    key=key.text,
                    kind=key.kind,
                    request_id=key.request_id,
                    recipient_id=key.recipient_id,
                    about=key.about,
                    on_day=key.on_day,
                    message_id=message.id if message is not None else None,
                    created_at=now,
                )
                for key in keys
            )
            session.flush()  # the unique index decides: a key already taken takes the message back with it
    except IntegrityError:
        return False
    return True


def _not_paused():
    return ~exists().where(RequestPause.request_id == R.id, RequestPause.ended_at.is_(None))


def _open_due_between(start: date, end: date) -> Select:
    """Open requests whose clock runs, due in [start, end]: a range on ix_dsr_request_open_due."""
    return (
        select(R).where(R.is_open == true(), R.due_on >= start, R.due_on <= end, _not_paused()).order_by(R.due_on, R.id)
    )


def _send_each(
    session: Session,
    now: datetime,
    planned: list[Planned],
    limit: int,
    template: str,
    context: Callable[[Planned], dict[str, Any]],
) -> int:
    """One message per planned reminder not sent yet, at most `limit`; returns how many were recorded."""
    done = already_sent(session, (item.key.text for item in planned))
    sent = 0
    for item in planned:
        if sent >= limit:
            break
        if item.key.text in done:
            continue

        def queue(item: Planned = item) -> OutboxMessage:
            return queue_email(
                session, now, to=item.recipient.email, template=template, context=context(item), request=item.request
            )

        sent += send_once(session, now, [item.key], queue)
    return sent


def _context(settings: ReminderSettings, now: datetime, item: Planned, **extra: Any) -> dict[str, Any]:
    request = item.request
    today = settings.due.local_now(now).date()
    return {
        "recipient": item.recipient,
        "request": request,
        "assigned": request.assignee_id == item.recipient.id,
        "url": settings.request_url(request.reference),
        "queue_url": settings.queue_url,
        "days_left": (request.due_on - today).days if request.due_on else None,
        **extra,
    }


def send_due_reminders(session: Session, now: datetime, settings: ReminderSettings, limit: int = LIMIT) -> int:
    """Reminders N days before each open request's current due date (see ReminderSchedule)."""
    schedule = settings.due
    today = schedule.today(now)
    staff = active_staff(session)
    planned = []
    for request in session.scalars(_open_due_between(*schedule.window(today))):
        stage = schedule.stage(request.due_on, today)
        if stage is None:
            continue
        for person in recipients_for(request, staff):
            planned.append(
                Planned(ReminderKey(due_kind(stage), person.id, request.id, request.due_on), request, person)
            )
    return _send_each(session, now, planned, limit, "reminder", lambda item: _context(settings, now, item))


def escalate_overdue(session: Session, now: datetime, settings: ReminderSettings, limit: int = LIMIT) -> int:
    """Once a day, from the reminder time: each admin gets one message listing the overdue requests.

    A day the scheduler missed is not made up the next morning; that day's escalation covers it.
    """
    local = settings.due.local_now(now)
    today = local.date()
    if local.time() < settings.due.send_at:
        return 0
    overdue = session.scalars(
        select(R).where(R.is_open == true(), R.due_on < today, _not_paused()).order_by(R.due_on, R.id)
    ).all()
    if not overdue:
        return 0
    recorded = 0
    for admin in escalation_recipients(active_staff(session)):
        keys = [(ReminderKey(OVERDUE, admin.id, request.id, request.due_on, today), request) for request in overdue]
        done = already_sent(session, (key.text for key, _ in keys))
        todo = [(key, request) for key, request in keys if key.text not in done][:limit]
        if not todo:
            continue
        requests = [request for _, request in todo]
        context = {
            "recipient": admin,
            "requests": requests,
            "days_late": {request.id: (today - request.due_on).days for request in requests},
            "request_url": settings.request_url,
            "queue_url": settings.queue_url,
            "today": today,
        }

        def queue(admin: StaffUser = admin, context: dict[str, Any] = context) -> OutboxMessage:
            return queue_email(session, now, to=admin.email, template="overdue_escalation", context=context)

        if send_once(session, now, [key for key, _ in todo], queue):
            recorded += len(todo)
    return recorded


def remind_acknowledgements(session: Session, now: datetime, settings: ReminderSettings, limit: int = LIMIT) -> int:
    """Before the date receipt must be confirmed by (CCPA: 10 business days); admins once it is missed."""
    schedule = settings.acknowledge
    today = schedule.today(now)
    start, end = today - timedelta(days=ACK_MISSED_LOOKBACK), schedule.window(today)[1]
    pending = session.scalars(
        select(R)
        .where(R.is_open == true(), R.acknowledge_by >= start, R.acknowledge_by <= end, R.acknowledged_at.is_(None))
        .order_by(R.acknowledge_by, R.id)
    )
    staff = active_staff(session)
    planned = []
    for request in pending:
        if today > request.acknowledge_by:
            kind, recipients = ACK_MISSED, escalation_recipients(staff)
        else:
            stage = schedule.stage(request.acknowledge_by, today)
            if stage is None:
                continue
            kind, recipients = ack_kind(stage), recipients_for(request, staff)
        planned.extend(
            Planned(ReminderKey(kind, person.id, request.id, request.acknowledge_by), request, person)
            for person in recipients
        )
    return _send_each(
        session,
        now,
        planned,
        limit,
        "acknowledgement_reminder",
        lambda item: _context(settings, now, item, missed=item.key.kind == ACK_MISSED),
    )


def remind_extension_window(session: Session, now: datetime, settings: ReminderSettings, limit: int = LIMIT) -> int:
    """Before the last day an extension notice can reach the requester, for requests not extended.

    An unextended request's due date is the unextended due date; a request with no extension
    decision is one not extended yet (declining is not recorded, so the reminder goes once).
    """
    schedule = settings.extension
    today = schedule.today(now)
    rules = load_rules(session)
    staff = active_staff(session)
    planned = []
    for request in session.scalars(_open_due_between(*schedule.window(today)).where(R.extended_at.is_(None))):
        rule = find_rule(rules, request.jurisdiction, request.request_type.value)
        if rule.extension is None or not rule.extension_notice_required:
            continue
        if schedule.stage(request.due_on, today) is None:
            continue
        planned.extend(
            Planned(ReminderKey(EXTENSION, person.id, request.id, request.due_on), request, person)
            for person in recipients_for(request, staff)
        )
    return _send_each(
        session,
        now,
        planned,
        limit,
        "extension_reminder",
        lambda item: _context(
            settings,
            now,
            item,
            extension=find_rule(rules, item.request.jurisdiction, item.request.request_type.value).extension,
        ),
    )

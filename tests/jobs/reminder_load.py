"""The reminder load the scheduler-process tests put through real processes: requests due within the week
(each gets exactly one reminder now, at 00:00 local time), what should arrive, and what did."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import Message

from sqlalchemy import func, select

from dsr.domain.lifecycle import Status
from dsr.domain.requests import RequestType
from dsr.extensions import db
from dsr.models import DataSubjectRequest, OutboxMessage, OutboxStatus, Role, SentReminder, StaffUser
from dsr.models.request import new_reference
from tests.factories import make_user
from tests.jobs.conftest import LOCAL

LISTED = re.compile(r"^- (DSR-\d{4}-[0-9A-Z]{4}-[0-9A-Z]{4}):", re.M)  # a request in an escalation


def clear_of_midnight() -> date:
    """Today's local date, waiting out the last two minutes before midnight so the day cannot turn mid-test."""
    now = datetime.now(LOCAL)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), LOCAL)
    if midnight - now < timedelta(minutes=2):
        time.sleep((midnight - now).total_seconds() + 2)
    return datetime.now(LOCAL).date()


@dataclass
class Expected:
    reminders: Counter = field(default_factory=Counter)  # (to, reference) -> 1
    overdue: list[str] = field(default_factory=list)
    digests: set[str] = field(default_factory=set)


def seed(session, people: list[StaffUser], today: date, due_soon: int, overdue: int, unassigned_every: int) -> Expected:
    """Requests due today to a week ahead (each gets exactly one reminder now, the latest of its
    schedule), some unassigned (every active person gets those), and some already overdue."""
    expected = Expected()
    references: set[str] = set()
    now = datetime.now(UTC)
    for number in range(due_soon + overdue):
        reference = new_reference(today.year)
        while reference in references:
            reference = new_reference(today.year)
        references.add(reference)
        late = number >= due_soon
        assignee = None if number % unassigned_every == 0 else people[number % len(people)]
        session.add(
            DataSubjectRequest(
                reference=reference,
                request_type=RequestType.ACCESS,
                status=Status.VERIFIED,
                is_open=True,
                jurisdiction="br_lgpd",  # no extension in law: no extension-window reminders
                requester_name="Test Person",
                requester_email=f"person{number}@example.org",
                received_at=now - timedelta(days=10),
                verified_at=now,
                acknowledged_at=now,
                due_on=today - timedelta(days=1 + number % 3) if late else today + timedelta(days=number % 8),
                assignee=assignee,
            )
        )
        if late:
            expected.overdue.append(reference)
        else:
            for person in [assignee] if assignee else people:
                expected.reminders[(person.email, reference)] += 1
    session.commit()
    if today.weekday() < 5:  # digests go out on working days (DSR_REMINDER_HOLIDAYS is unset: weekends only)
        expected.digests = {person.email for person in people}
    return expected


@dataclass
class Received:
    reminders: Counter  # (to, reference) -> arrivals
    reminder_ids: dict  # (to, reference) -> set of Message-IDs
    escalated: Counter  # reference -> arrivals
    digests: Counter  # to -> arrivals
    total: int


def received(messages: list[Message]) -> Received:
    reminders, escalated, digests, ids = Counter(), Counter(), Counter(), {}
    for message in messages:
        subject, to = str(message["Subject"]), str(message["To"])
        if subject.startswith(("Due ", "Overdue: ")):
            key = (to, subject.rsplit(" ", 1)[-1])
            reminders[key] += 1
            ids.setdefault(key, set()).add(str(message["Message-ID"]))
        elif " overdue request" in subject:
            escalated.update(LISTED.findall(message.get_body(preferencelist=("plain",)).get_content()))
        elif subject.startswith("Your requests"):
            digests[to] += 1
    return Received(reminders, ids, escalated, digests, len(messages))


def outbox_settled() -> bool:
    """Nothing waiting or being sent: no message can go out (again) any more."""
    db.session.rollback()
    return not db.session.scalar(
        select(func.count()).where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
    )


def recorded_reminders() -> int:
    """Deadline reminders recorded (each under its unique key, with its outbox message)."""
    db.session.rollback()
    return db.session.scalar(select(func.count()).where(SentReminder.kind.like("due-%")))


def staff(session) -> list[StaffUser]:
    return [
        make_user(session, "ada@acme-crm.example", Role.ADMIN, "Ada Admin"),
        make_user(session, "sam@acme-crm.example", Role.STAFF, "Sam Staff"),
        make_user(session, "kim@acme-crm.example", Role.STAFF, "Kim Staff"),
    ]

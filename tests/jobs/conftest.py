"""Helpers for the job tests: the organisation's local time (the demo profile: Asia/Kolkata), staff,
verified requests, walking the moving clock day by day, and the reminders the outbox holds."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action
from dsr.domain.requests import RequestType
from dsr.models import DataSubjectRequest, OutboxMessage, Role, StaffUser
from dsr.services.requests import transition
from tests.factories import make_request, make_user

LOCAL = ZoneInfo("Asia/Kolkata")  # profiles/demo.yaml


def local(day: date, at: str = "09:00") -> datetime:
    hours, minutes = (int(part) for part in at.split(":"))
    return datetime.combine(day, time(hours, minutes), LOCAL).astimezone(UTC)


@dataclass
class Staff:
    admin: StaffUser
    sam: StaffUser
    kim: StaffUser


@pytest.fixture
def staff(session) -> Staff:
    return Staff(
        admin=make_user(session, "ada@acme-crm.example", Role.ADMIN, "Ada Admin"),
        sam=make_user(session, "sam@acme-crm.example", Role.STAFF, "Sam Staff"),
        kim=make_user(session, "kim@acme-crm.example", Role.STAFF, "Kim Staff"),
    )


def verified_request(
    session,
    received: datetime,
    jurisdiction: str = "eu_gdpr",
    assignee: StaffUser | None = None,
    request_type: RequestType = RequestType.ACCESS,
    acknowledged: bool = True,
) -> DataSubjectRequest:
    request = make_request(session, received, request_type, jurisdiction, timezone="Asia/Kolkata")
    transition(session, Actor.system("tests"), received, request, Action.VERIFY)
    request.acknowledged_at = received if acknowledged else None
    request.assignee = assignee
    session.commit()
    return request


def walk(
    app: Flask,
    clock,
    first: date,
    last: date,
    jobs: Iterable[Callable[[Flask], None]],
    times: Iterable[str] = ("08:59", "09:00", "17:00"),
) -> None:
    """Run the jobs at these local times on every day from first to last (the clock moves; nobody sleeps)."""
    day = first
    while day <= last:
        for at in times:
            clock.set(local(day, at))
            for job in jobs:
                job(app)
        day += timedelta(days=1)


@dataclass(frozen=True)
class Sent:
    to: str
    subject: str
    at: datetime  # local time it was queued

    @property
    def day(self) -> date:
        return self.at.date()


def sent(session, template: str, to: str | None = None) -> list[Sent]:
    query = select(OutboxMessage).where(OutboxMessage.template == template).order_by(OutboxMessage.id)
    if to is not None:
        query = query.where(OutboxMessage.recipient == to)
    return [Sent(m.recipient, m.subject, m.created_at.astimezone(LOCAL)) for m in session.scalars(query)]

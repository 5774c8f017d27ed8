"""Real `flask dsr scheduler` processes on one PostgreSQL database, delivering to a real SMTP server:
two at once send every reminder exactly once; one killed mid-run and restarted loses none and
repeats none. Time is real here (these are other processes), so the reminders go out at 00:00 local
time and every request is due within the week. See tests/jobs/processes.py for the database.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.message import Message

import flask_migrate
import pytest
from sqlalchemy import MetaData, delete, func, select

from dsr import create_app
from dsr.domain.lifecycle import Status
from dsr.domain.requests import RequestType
from dsr.extensions import db
from dsr.models import DataSubjectRequest, JobRun, OutboxMessage, OutboxStatus, Role, SentReminder, StaffUser
from dsr.models.request import new_reference
from dsr.services.letters import seed_letters
from dsr.services.rules import seed_default_rules
from tests.factories import make_user
from tests.jobs.conftest import LOCAL
from tests.jobs.processes import SchedulerProcess, postgres_url, scheduler_env, wait_for
from tests.servers import exclusive

LISTED = re.compile(r"^- (DSR-\d{4}-[0-9A-Z]{4}-[0-9A-Z]{4}):", re.M)  # a request in an escalation
_local_apps: dict[str, object] = {}


def _empty() -> None:
    db.session.rollback()
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(delete(table))
    seed_default_rules(db.session)
    seed_letters(db.session)
    db.session.commit()


@pytest.fixture
def shared(request, app, tmp_path_factory):
    """(app, url) on the PostgreSQL database the scheduler processes share, empty, in an app context."""
    url, suite_database = postgres_url()
    if suite_database:
        request.getfixturevalue("database")  # the suite's own database, emptied after the test
        yield app, url
        return
    with exclusive(url):  # another test run (another engineer's, another database's) may share it
        yield from _local(url, tmp_path_factory)


def _local(url: str, tmp_path_factory):
    """A second app on the local database, rebuilt by the migrations each time (another run may have changed it)."""
    if url not in _local_apps:
        bundles = str(tmp_path_factory.mktemp("bundles"))
        _local_apps[url] = create_app("test", {"SQLALCHEMY_DATABASE_URI": url, "DSR_BUNDLE_DIR": bundles})
    local = _local_apps[url]
    with local.app_context():
        metadata = MetaData()
        metadata.reflect(bind=db.engine)
        metadata.drop_all(bind=db.engine)
        flask_migrate.upgrade()
        _empty()
        yield local, url
        _empty()


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
    db.session.rollback()
    return not db.session.scalar(
        select(func.count()).where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]))
    )


def staff(session) -> list[StaffUser]:
    return [
        make_user(session, "ada@acme-crm.example", Role.ADMIN, "Ada Admin"),
        make_user(session, "sam@acme-crm.example", Role.STAFF, "Sam Staff"),
        make_user(session, "kim@acme-crm.example", Role.STAFF, "Kim Staff"),
    ]


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


def test_a_scheduler_killed_mid_run_and_restarted_loses_no_reminder_and_repeats_none(
    shared, smtp_server, mailbox, tmp_path
):
    app, url = shared
    host, port, _ = smtp_server
    sam = make_user(db.session, "sam@acme-crm.example", Role.STAFF, "Sam Staff")  # the only one: all is Sam's
    today = clear_of_midnight()
    expected = seed(db.session, [sam], today, due_soon=300, overdue=0, unassigned_every=10**6)
    wanted = sum(expected.reminders.values())
    env = scheduler_env(app, url, (host, port), lease_seconds=3)

    def recorded() -> int:
        db.session.rollback()
        return db.session.scalar(select(func.count()).where(SentReminder.kind.like("due-%")))

    first = SchedulerProcess(env, tmp_path / "first.log")
    try:
        wait_for(lambda: recorded() > 0, 60, "the first committed batch of reminders", [first])
        at_kill = recorded()
        first.kill()
    finally:
        first.stop()
    assert 0 < at_kill < wanted, "the process should have been stopped in the middle of its sweep"
    arrived_before_restart = len(mailbox.messages)

    second = SchedulerProcess(env, tmp_path / "second.log")
    try:
        wait_for(lambda: recorded() == wanted, 60, "every reminder recorded", [second])
        wait_for(outbox_settled, 60, "an empty outbox (claims of the killed process expire after 3 s)", [second])
        time.sleep(1)
    finally:
        second.stop()

    got = received(mailbox.messages)
    assert set(got.reminders) == set(expected.reminders)  # none lost
    # None repeated: each reminder is one message. The only repeat the outbox allows is the same
    # message again (same Message-ID) when the process died between the mail server's "250 OK"
    # and recording it; mail clients drop those (dsr.notify.delivery).
    assert all(len(ids) == 1 for ids in got.reminder_ids.values())
    assert db.session.scalar(select(func.count()).select_from(SentReminder)) == wanted + len(expected.digests)
    print(  # shown with -s: how the kill landed
        f"killed after {at_kill}/{wanted} reminders recorded and {arrived_before_restart} delivered; "
        f"{got.total - len(got.reminder_ids) - sum(got.digests.values())} resent with the same Message-ID"
    )

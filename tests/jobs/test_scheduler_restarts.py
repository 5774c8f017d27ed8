"""A real `flask dsr scheduler` process stopped in the middle of its reminder run, then started again.

The stop lands at a chosen moment, not by luck: the mail server takes in the 20th message and holds back
its "250 OK" until the test has stopped the process, so the stop always catches a message in flight (the
server has it, the outbox does not yet know).

- Stopped as a process manager does, with SIGTERM: the process finishes that send, records it, hands
  the rest back and exits 0; the restart sends the rest. Every reminder reaches the mail server exactly
  once — counted as messages, not just Message-IDs.
- Killed with SIGKILL (a machine dies): SMTP has no two-phase commit, so the message the server accepted
  but the outbox never recorded is sent again after its lease expires. That is the one repeat the
  outbox allows (dsr.notify.delivery): the same message with the same Message-ID, which lets the
  receiving side drop it (many mail systems do; not all). No reminder is lost, each is recorded once
  under its unique key with one outbox message, and nothing else is sent twice.

Time is real (these are other processes): see tests/jobs/reminder_load.py and tests/jobs/processes.py.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from dsr.extensions import db
from dsr.models import OutboxMessage, OutboxStatus, Role, SentReminder
from tests.conftest import Mailbox, free_port
from tests.factories import make_user
from tests.jobs.processes import SchedulerProcess, scheduler_env, shared_fixture, wait_for  # noqa: F401
from tests.jobs.reminder_load import clear_of_midnight, outbox_settled, received, recorded_reminders, seed

HOLD_AT = 20  # of some 300 messages
REMINDERS = 300


class HoldingMailbox(Mailbox):
    """Takes in every message; the HOLD_AT-th one it keeps without answering until `release` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.holding, self.release = threading.Event(), threading.Event()
        self.held: str | None = None  # its Message-ID

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if len(self.messages) == HOLD_AT:
            self.held = str(self.messages[-1]["Message-ID"])
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 120)
        return answer

    def arrivals(self) -> Counter:
        return Counter(str(message["Message-ID"]) for message in self.messages)


@pytest.fixture
def holding_smtp():
    mailbox = HoldingMailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.hostname, controller.port, mailbox
    mailbox.release.set()
    controller.stop()


@pytest.fixture
def run(shared, holding_smtp):
    """Sam has 300 requests due this week; returns (expected, scheduler environment, mailbox)."""
    app, url = shared
    host, port, mailbox = holding_smtp
    sam = make_user(db.session, "sam@acme-crm.example", Role.STAFF, "Sam Staff")  # the only one: all is Sam's
    expected = seed(db.session, [sam], clear_of_midnight(), due_soon=REMINDERS, overdue=0, unassigned_every=10**6)
    env = {**scheduler_env(app, url, (host, port), lease_seconds=3), "DSR_SMTP_TIMEOUT": "300"}  # outlasts a hold
    return expected, env, mailbox


def status_of(message_id: str) -> OutboxStatus:
    db.session.rollback()
    return db.session.scalar(select(OutboxMessage.status).where(OutboxMessage.message_id == message_id))


def restart_and_finish(env: dict, log, wanted_reminders: int) -> None:
    """A new process, until every reminder is recorded and nothing is left to send; then stopped cleanly."""
    process = SchedulerProcess(env, log)
    try:
        wait_for(
            lambda: recorded_reminders() == wanted_reminders and outbox_settled(),
            90,
            "every reminder recorded and the outbox empty (a killed process's claims expire after 3 s)",
            [process],
        )
        process.terminate()
        assert process.wait(60) == 0, process.output()
    finally:
        process.stop()


def test_sigterm_mid_run_finishes_the_send_in_flight_and_the_restart_sends_each_reminder_once(run, tmp_path):
    expected, env, mailbox = run
    wanted = sum(expected.reminders.values()) + len(expected.digests)
    first = SchedulerProcess(env, tmp_path / "first.log")
    try:
        wait_for(mailbox.holding.is_set, 90, f"message {HOLD_AT} at the mail server", [first])
        first.terminate()  # while the server holds that message's "250 OK"
        wait_for(lambda: "Stopping (SIGTERM)" in first.output() or first.exited(), 30, "the signal taken", [first])
        mailbox.release.set()
        status = first.wait(60)
    finally:
        mailbox.release.set()
        first.stop()

    assert status == 0, f"SIGTERM should stop the scheduler cleanly, not kill it ({status})\n{first.output()}"
    assert status_of(mailbox.held) is OutboxStatus.SENT  # the send in flight was finished and recorded
    assert len(mailbox.messages) == HOLD_AT < wanted  # and nothing more was started: it stopped mid-run

    restart_and_finish(env, tmp_path / "second.log", len(expected.reminders))
    got = received(mailbox.messages)
    assert got.reminders == expected.reminders  # every reminder, each exactly once
    assert got.digests == Counter(expected.digests)
    assert len(mailbox.messages) == wanted and max(mailbox.arrivals().values()) == 1  # nothing arrived twice


def test_sigkill_mid_send_loses_no_reminder_and_repeats_only_the_message_in_flight(run, tmp_path):
    expected, env, mailbox = run
    first = SchedulerProcess(env, tmp_path / "first.log")
    try:
        wait_for(mailbox.holding.is_set, 90, f"message {HOLD_AT} at the mail server", [first])
        first.kill()  # the server has the message; the process never hears "250 OK"
    finally:
        mailbox.release.set()
        first.stop()
    assert status_of(mailbox.held) is OutboxStatus.SENDING and len(mailbox.messages) == HOLD_AT

    restart_and_finish(env, tmp_path / "second.log", len(expected.reminders))
    got = received(mailbox.messages)
    assert set(got.reminders) == set(expected.reminders)  # none lost
    assert all(len(ids) == 1 for ids in got.reminder_ids.values())  # a repeat is the same message, same Message-ID
    repeated = {message_id: n for message_id, n in mailbox.arrivals().items() if n > 1}
    assert repeated == {mailbox.held: 2}  # only the one in flight at the kill, and once more only
    assert got.digests == Counter(expected.digests)

    keys = db.session.scalars(select(SentReminder.key).where(SentReminder.kind.like("due-%"))).all()
    assert len(keys) == len(set(keys)) == len(expected.reminders)  # each reminder recorded once
    per_reminder = db.session.execute(
        select(OutboxMessage.recipient, OutboxMessage.request_id, func.count())
        .where(OutboxMessage.template == "reminder")
        .group_by(OutboxMessage.recipient, OutboxMessage.request_id)
    ).all()
    assert len(per_reminder) == len(expected.reminders) and {n for *_, n in per_reminder} == {1}  # one message each

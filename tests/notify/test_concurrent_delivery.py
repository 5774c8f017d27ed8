"""Two delivery workers on one outbox (SKIP LOCKED on PostgreSQL/MariaDB, conditional claims on SQLite)."""

from __future__ import annotations

import threading
import time
from collections import Counter

from sqlalchemy import func, select

from dsr.extensions import db
from dsr.models import OutboxMessage, OutboxStatus
from dsr.notify.delivery import deliver_due
from dsr.notify.outbox import queue_email
from dsr.notify.sms import ConsoleSms
from tests.notify.conftest import T0

MESSAGES = 40


def unsent() -> int:
    return db.session.scalar(select(func.count()).where(OutboxMessage.status != OutboxStatus.SENT))


def test_two_workers_running_at_once_never_send_a_message_twice(app, session, smtp):
    queued = [
        queue_email(
            session, T0, to=f"person{i}@example.org", template="notice", context={"heading": "Hi", "paragraphs": []}
        ).message_id
        for i in range(MESSAGES)
    ]
    session.commit()
    start = threading.Barrier(2)
    sent_by: Counter[str] = Counter()
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            with app.app_context():  # its own database session and connection
                mailer = smtp.mailer()
                start.wait()
                give_up = time.monotonic() + 30
                while unsent() and time.monotonic() < give_up:
                    report = deliver_due(db.session, T0, mailer, ConsoleSms(), batch_size=3)
                    db.session.commit()
                    sent_by[name] += report.sent
                    if not report.sent:
                        time.sleep(0.01)  # the other worker holds what is left
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    received = [message["Message-ID"] for message in smtp.mailbox.messages]
    assert len(received) == MESSAGES and sorted(received) == sorted(queued)  # every one, none twice
    assert sum(sent_by.values()) == MESSAGES
    assert sent_by["first"] and sent_by["second"], "both workers should have taken part"
    session.expire_all()
    assert session.scalars(select(OutboxMessage.attempts).distinct()).all() == [1]

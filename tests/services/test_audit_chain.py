"""The audit trail's hash chain: every committed event is chained, once, in one unforked line."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta, timezone

import flask_migrate
import pytest
from sqlalchemy import MetaData, create_engine, func, select, text
from sqlalchemy.event import listen

from dsr import create_app
from dsr.domain.actors import Actor
from dsr.domain.audit_chain import GENESIS, LinkFields, link_hash
from dsr.domain.lifecycle import Status
from dsr.extensions import db
from dsr.models import AuditEvent
from dsr.models.audit import AuditHead
from dsr.models.insert import insert_now
from dsr.services.audit import record_event
from dsr.services.audit_verify import verify_chain
from tests.factories import make_request, request_row
from tests.servers import SERVERS, database_url, server_kinds

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
ADA = Actor.system("tests")


def chain(session) -> list[AuditEvent]:
    session.expire_all()
    return session.scalars(select(AuditEvent).order_by(AuditEvent.chain_seq)).all()


def test_committed_events_are_chained_in_order_from_the_origin(session):
    request = make_request(session, T0)
    record_event(session, ADA, "request.note_added", T0, request, note="first")
    record_event(session, ADA, "request.assigned", T0 + timedelta(seconds=1), request, to=None)
    session.commit()

    events = chain(session)
    assert [e.chain_seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == GENESIS
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.entry_hash
    last = events[-1]
    expected = link_hash(
        LinkFields(
            last.chain_seq,
            last.occurred_at,
            last.actor_kind,
            last.actor_user_id,
            last.actor_label,
            last.request_id,
            last.action,
            {},  # to=None is left out of the details
        ),
        last.prev_hash,
    )
    assert last.entry_hash == expected
    head = session.get(AuditHead, 1)
    assert (head.seq, head.entry_hash) == (last.chain_seq, last.entry_hash)
    assert verify_chain(session).ok


def test_events_flushed_early_and_events_added_at_commit_join_the_same_chain(session):
    request = make_request(session, T0)
    record_event(session, ADA, "request.note_added", T0, request)
    session.flush()  # autoflush by a query, say: the row exists before the commit seals it
    assert session.scalar(select(func.count()).where(AuditEvent.chain_seq.is_(None))) == 1
    record_event(session, ADA, "request.assigned", T0, request)
    session.commit()
    assert session.scalar(select(func.count()).where(AuditEvent.chain_seq.is_(None))) == 0
    assert verify_chain(session).checked == len(chain(session))


def test_what_is_hashed_at_commit_is_what_the_database_gives_back(session):
    """The seal hashes the session's values without reading the rows back: they must round-trip."""
    request = make_request(session, T0)
    when = datetime(2026, 11, 23, 10, 30, 15, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    record_event(
        session,
        Actor.system("Zoë 王 🙂"),
        "request.note_added",
        when,
        request,
        text="naïve “quotes” \\ \n 🙂",
        nested={"b": [1, 2.5, None, True, ("a", "tuple")], "a": {"deeper": -(2**53)}},
        numbered={1: "int key", "2": "str key"},
        status=Status.SUBMITTED,
        empty={},
    )
    flushed = record_event(session, ADA, "request.assigned", T0 + timedelta(microseconds=1), request)
    session.flush()
    flushed.details = {"changed": "after its flush, before the commit"}
    session.commit()

    report = verify_chain(session)
    assert report.ok and report.checked == len(chain(session)), report.describe()
    events = chain(session)
    assert events[-2].occurred_at == when and events[-2].details["numbered"] == {"1": "int key", "2": "str key"}


def test_rolled_back_events_leave_no_trace_in_the_chain(session):
    request = make_request(session, T0)
    record_event(session, ADA, "request.note_added", T0, request)
    session.flush()
    session.rollback()
    with session.begin_nested():
        record_event(session, ADA, "request.assigned", T0, request)
    savepoint = session.begin_nested()
    record_event(session, ADA, "request.reopen", T0, request)
    session.flush()
    savepoint.rollback()
    session.commit()
    actions = [e.action for e in chain(session)]
    assert "request.note_added" not in actions and "request.reopen" not in actions
    assert actions[-1] == "request.assigned"
    assert verify_chain(session).ok


def test_a_transaction_without_events_does_not_touch_the_head(session):
    make_request(session, T0)
    before = session.get(AuditHead, 1).seq
    session.execute(text("SELECT 1"))
    session.commit()
    session.expire_all()
    assert session.get(AuditHead, 1).seq == before


def migrated_app(url: str):
    application = create_app("test", {"SQLALCHEMY_DATABASE_URI": url})
    with application.app_context():
        metadata = MetaData()
        metadata.reflect(bind=db.engine)
        metadata.drop_all(bind=db.engine)
        flask_migrate.upgrade()
    return application


def own_database_app(kind: str, tmp_path):
    """A database of its own: a file for SQLite; on a server one per test run (never the suite's `test`)."""
    name = f"dsr_audit_chain_{os.getpid()}"
    url = f"sqlite:///{tmp_path / 'chain.sqlite3'}" if kind == "sqlite" else database_url(kind, name)
    application = migrated_app(url)
    yield application
    with application.app_context():
        db.engine.dispose()
    if kind != "sqlite":
        drop_database(kind, name)


@pytest.fixture(params=["sqlite", *server_kinds()])
def writers_app(request, tmp_path):
    yield from own_database_app(request.param, tmp_path)


@pytest.fixture(params=server_kinds())
def server_writers_app(request, tmp_path):
    """Servers only: SQLite has one writer at a time whatever the chain does."""
    yield from own_database_app(request.param, tmp_path)


def drop_database(kind: str, name: str) -> None:
    engine = create_engine(SERVERS[kind][1], isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(
            text(f'DROP DATABASE IF EXISTS "{name}"' if kind == "postgresql" else f"DROP DATABASE IF EXISTS `{name}`")
        )
    engine.dispose()


WRITERS, TRANSACTIONS = 6, 20


def run_writers(writers_app, transaction) -> None:
    """WRITERS threads at once, each committing `transaction(number, i)` TRANSACTIONS times; then the
    chain holds every event once, with no gap and no fork, and verifies."""
    start = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            with writers_app.app_context():
                start.wait()
                for i in range(TRANSACTIONS):
                    transaction(number, i)
                    db.session.commit()
        except BaseException as exc:  # surfaced in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert errors == []
    with writers_app.app_context():
        expected = db.session.scalar(select(func.count()).select_from(AuditEvent))
        seqs = db.session.scalars(select(AuditEvent.chain_seq).order_by(AuditEvent.chain_seq)).all()
        assert seqs == list(range(1, expected + 1))  # every event once, no gap, no fork
        report = verify_chain(db.session)
        assert report.ok and report.checked == expected, report.describe()


def test_concurrent_writers_never_fork_the_chain(writers_app):
    def transaction(number: int, i: int) -> None:
        for j in range(1 + (number + i) % 3):  # one to three events per transaction
            record_event(db.session, Actor.system(f"writer {number}"), "job.run_now", T0, n=i, k=j)
        if i % 4 == 0:
            db.session.flush()  # some rows exist well before their commit

    run_writers(writers_app, transaction)
    with writers_app.app_context():
        expected = sum(1 + (n + i) % 3 for n in range(WRITERS) for i in range(TRANSACTIONS))
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == expected


def test_a_slow_transaction_does_not_hold_up_other_writers(server_writers_app):
    """The head is locked only while a transaction commits, not from its first event on."""
    writers_app = server_writers_app
    flushed, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow() -> None:
        try:
            with writers_app.app_context():
                record_event(db.session, Actor.system("slow"), "job.run_now", T0)
                db.session.flush()
                flushed.set()
                done.wait(30)  # e.g. a job talking to a mail server before it commits
                db.session.commit()
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=slow)
    thread.start()
    assert flushed.wait(30)
    with writers_app.app_context():
        record_event(db.session, Actor.system("fast"), "job.run_now", T0)
        db.session.commit()  # would wait for the slow one if the lock were taken at its first event
        done.set()
    thread.join(30)
    assert errors == []
    with writers_app.app_context():
        labels = db.session.scalars(select(AuditEvent.actor_label).order_by(AuditEvent.chain_seq)).all()
        assert labels == ["fast", "slow"]
        assert verify_chain(db.session).ok


def test_events_about_a_request_inserted_in_the_same_transaction_are_inserted_chained(session):
    """What every filed request does: no UPDATE of its events, and the chain holds."""
    statements: list[str] = []
    make_request(session, T0)  # the chain has a head already
    request = insert_now(session, request_row("DSR-2026-CHAN-NEW1"))
    record_event(session, Actor.requester(), "request.submitted", T0, request, type="access")
    record_event(session, Actor.system("verification"), "verification.sent", T0, request, channel="email")
    listen(session.connection(), "before_cursor_execute", lambda *args: statements.append(args[2].split()[0:3]))
    session.commit()
    # Lock the head, insert the events chained (one multi-row INSERT; one per row on SQLite), move the head.
    assert statements[0][0] == "SELECT" and {words[0] for words in statements[1:-1]} == {"INSERT"}
    assert statements[-1][:2] == ["UPDATE", "audit_head"] and len(statements) in (3, 4)
    report = verify_chain(session)
    assert report.ok, report.describe()


def test_events_that_could_wait_on_another_transaction_are_inserted_before_the_head_is_locked(session):
    statements: list[str] = []
    older = make_request(session, T0)
    request = insert_now(session, request_row("DSR-2026-CHAN-NEW2"))
    record_event(session, Actor.requester(), "request.submitted", T0, request)
    record_event(session, Actor.system("tests"), "request.note", T0, older)  # a request this one did not insert
    listen(session.connection(), "before_cursor_execute", lambda *args: statements.append(args[2].split()[0]))
    session.commit()
    assert statements[0] == "INSERT" and statements.count("UPDATE") == 2  # events, then head, events, head
    assert verify_chain(session).ok


def test_writers_filing_and_writers_recording_never_fork_or_deadlock(writers_app):
    def transaction(number: int, i: int) -> None:
        if number % 2:  # files a request: its events are inserted chained, under the head
            filed = insert_now(db.session, request_row(f"DSR-2026-W{number:03d}-{i:04d}"))
            record_event(db.session, Actor.requester(), "request.submitted", T0, filed)
            record_event(db.session, Actor.system("verification"), "verification.sent", T0, filed)
        else:  # events inserted first, then chained
            record_event(db.session, Actor.system(f"writer {number}"), "job.run_now", T0, n=i)

    run_writers(writers_app, transaction)
    with writers_app.app_context():
        expected = sum(2 if n % 2 else 1 for n in range(WRITERS)) * TRANSACTIONS
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == expected

"""insert_now: one Core INSERT for a new row, which then behaves as a flushed ORM object."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action, Status
from dsr.models import AuditEvent, DataSubjectRequest, OutboxMessage, RequestPause
from dsr.models.insert import insert_all_now, insert_now
from dsr.services.audit import record_event
from dsr.services.audit_verify import verify_chain
from dsr.services.requests import transition
from tests.factories import make_request, request_row

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def statements(session) -> list[str]:
    seen: list[str] = []
    event.listen(session.connection(), "before_cursor_execute", lambda *args: seen.append(args[2].split()[0]))
    return seen


def test_the_row_is_stored_with_its_column_defaults_and_nothing_is_read_back(session):
    request = request_row("DSR-2026-INSR-T001")
    seen = statements(session)
    insert_now(session, request)
    assert seen == ["INSERT"]
    # Its id and every default Core applied are on the object already: reading them runs no SELECT.
    assert request.id and request.status is Status.SUBMITTED and request.version == 1 and request.form_data == {}
    assert request.received_at <= request.created_at <= request.updated_at
    assert seen == ["INSERT"]
    session.commit()
    stored = session.scalar(select(DataSubjectRequest).where(DataSubjectRequest.reference == "DSR-2026-INSR-T001"))
    assert stored is request  # one object per row, as after a flush
    session.expire_all()
    assert (stored.requester_email, stored.is_open, stored.source) == ("ada@example.org", True, "web")


def test_later_changes_are_ordinary_updates_with_the_version_check(session):
    request = insert_now(session, request_row("DSR-2026-INSR-T002"))
    transition(session, Actor.system("tests"), NOW, request, Action.VERIFY)
    request.pauses.append(RequestPause(started_at=NOW, reason="waiting"))
    session.commit()
    session.expire_all()
    assert request.status is Status.VERIFIED and request.version == 2 and len(request.pauses) == 1


def test_a_row_the_database_refuses_leaves_the_transaction_to_roll_back(session):
    taken = make_request(session, NOW)
    session.commit()
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        insert_now(session, request_row(taken.reference))
    session.rollback()
    assert session.scalar(select(DataSubjectRequest).where(DataSubjectRequest.reference == taken.reference)) == taken


def test_it_refuses_what_it_cannot_do(session):
    with pytest.raises(ValueError, match="not in a session"):
        insert_now(session, make_request(session, NOW))
    owner = make_request(session, NOW)
    related = OutboxMessage(channel="email", recipient="a@example.org", template="x", request=owner)
    with pytest.raises(ValueError, match="set the foreign key columns"):
        insert_now(session, related)


def test_many_rows_go_in_with_one_call_and_ids_in_the_order_given(session):
    rows = [request_row(f"DSR-2026-INSR-M00{n}") for n in range(3)]
    seen = statements(session)
    insert_all_now(session, rows)
    # One multi-row INSERT … RETURNING on servers; SQLite does not promise RETURNING's order for those.
    assert seen == ["INSERT"] * (3 if session.get_bind().dialect.name == "sqlite" else 1)
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    session.commit()
    stored = session.scalars(select(DataSubjectRequest.reference).order_by(DataSubjectRequest.id)).all()
    assert stored[-3:] == [r.reference for r in rows]
    mixed = [request_row("DSR-2026-INSR-X001"), OutboxMessage(channel="email", recipient="a@example.org")]
    with pytest.raises(ValueError, match="one model"):
        insert_all_now(session, mixed)


def test_events_recorded_in_one_transaction_are_chained_in_the_order_they_were_recorded(session):
    request = make_request(session, NOW)
    for step in range(4):
        record_event(session, Actor.system("tests"), f"tests.step{step}", NOW, request)
    session.commit()
    chained = session.execute(
        select(AuditEvent.action, AuditEvent.chain_seq).where(AuditEvent.action.like("tests.step%"))
    ).all()
    in_chain_order = [action for action, _ in sorted(chained, key=lambda row: row.chain_seq)]
    assert in_chain_order == [f"tests.step{n}" for n in range(4)]
    assert verify_chain(session).ok

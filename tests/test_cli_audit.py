"""`flask dsr audit verify`: editing, deleting or inserting an audit row in the database is caught and named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select, text, update

from dsr.domain.actors import ActorKind
from dsr.models import AuditEvent
from dsr.models.audit import AuditHead
from dsr.services.audit_log import last_verification
from tests.factories import make_request

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
EVENTS = AuditEvent.__table__


def verify(app):
    return app.test_cli_runner().invoke(args=["dsr", "audit", "verify"])


@pytest.fixture
def trail(session) -> list[int]:
    """Three requests' worth of events, committed (and so chained); their ids, oldest first."""
    for day in range(3):
        make_request(session, T0 + timedelta(days=day), email=f"person{day}@example.org")
    return session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)).all()


def tamper(session, statement, **params) -> None:
    """Straight to the database, as someone with SQL access would (no ORM, no hooks)."""
    session.execute(statement if not isinstance(statement, str) else text(statement), params)
    session.commit()


def test_an_untouched_trail_verifies_and_the_check_is_recorded(app, session, trail):
    head = session.get(AuditHead, 1).entry_hash
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert f"OK: {len(trail)} events, chain intact." in result.output
    assert f"sha256 {head}" in result.output
    recorded = last_verification(session)
    assert recorded.actor_label == "command line"
    assert recorded.details == {"result": "intact", "events": len(trail), "head_hash": head}
    assert verify(app).exit_code == 0  # its own event is part of the chain now


def broken_line(result) -> str:
    assert result.exit_code == 1, result.output
    return next(line for line in result.output.splitlines() if line.startswith("BROKEN"))


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("details", {"reason": "nothing to see"}),
        ("actor_label", "Someone Else"),
        ("occurred_at", T0 - timedelta(days=30)),
        ("request_id", None),
    ],
)
def test_editing_a_row_names_it_as_altered(app, session, trail, column, value):
    victim = trail[1]
    original = session.get(AuditEvent, victim)
    tamper(session, update(EVENTS).where(EVENTS.c.id == victim).values({column: value}))
    line = broken_line(verify(app))
    when = original.occurred_at.strftime("%Y-%m-%d %H:%M:%S") if column != "occurred_at" else "2026-01-31 09:30:00"
    assert line.startswith(f"BROKEN: event #{victim} ({when} UTC, {original.action}): altered")


def test_a_raw_sql_edit_of_the_actor_is_caught(app, session, trail):
    tamper(session, "UPDATE audit_event SET actor_label = 'Ada Admin' WHERE id = :id", id=trail[0])
    assert f"event #{trail[0]} " in broken_line(verify(app))


def test_editing_a_row_and_recomputing_its_hash_is_caught_at_the_next_link(app, session, trail):
    from dsr.domain.audit_chain import LinkFields, link_hash

    victim = session.get(AuditEvent, trail[0])
    forged = LinkFields(
        victim.chain_seq, victim.occurred_at, victim.actor_kind, None, "Nobody", None, victim.action, {}
    )
    tamper(
        session,
        update(EVENTS)
        .where(EVENTS.c.id == victim.id)
        .values(actor_label="Nobody", request_id=None, details={}, entry_hash=link_hash(forged, victim.prev_hash)),
    )
    line = broken_line(verify(app))
    assert f"event #{victim.id} " in line and "altered" in line and f"next event (#{trail[1]})" in line


def test_deleting_a_row_names_the_gap(app, session, trail):
    tamper(session, "DELETE FROM audit_event WHERE id = :id", id=trail[1])
    line = broken_line(verify(app))
    assert line.startswith(f"BROKEN: event #{trail[2]} ")
    assert f"removed — 1 event after event #{trail[0]} is missing" in line


def test_deleting_the_last_rows_is_caught_by_the_head(app, session, trail):
    tamper(session, "DELETE FROM audit_event WHERE id >= :id", id=trail[-2])
    line = broken_line(verify(app))
    assert line.startswith(f"BROKEN: event #{trail[-3]} ") and "removed" in line
    assert f"should go on to {len(trail)} events but ends at {len(trail) - 2}" in line


def forged_row(**chain) -> dict:
    return {
        "occurred_at": T0 + timedelta(days=1, minutes=5),
        "actor_kind": ActorKind.STAFF,
        "actor_label": "Ada Admin",
        "action": "request.complete",
        "details": {},
        **chain,
    }


def test_inserting_a_row_outside_the_chain_is_caught(app, session, trail):
    tamper(session, insert(EVENTS).values(forged_row()))
    forged = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    line = broken_line(verify(app))
    assert line.startswith(f"BROKEN: event #{forged} (2026-03-03 09:35:00 UTC, request.complete): inserted")


def test_inserting_a_row_after_the_head_is_caught(app, session, trail):
    head = session.get(AuditHead, 1)
    tamper(
        session,
        insert(EVENTS).values(forged_row(chain_seq=head.seq + 1, prev_hash=head.entry_hash, entry_hash="0" * 64)),
    )
    forged = session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    line = broken_line(verify(app))
    assert line.startswith(f"BROKEN: event #{forged} ") and "inserted" in line


def test_a_broken_chain_is_recorded_as_such(app, session, trail):
    tamper(session, "DELETE FROM audit_event WHERE id = :id", id=trail[0])
    verify(app)
    recorded = last_verification(session)
    assert recorded.details["result"] == "broken"
    assert recorded.details["breach"] == "removed" and recorded.details["event_id"] == trail[1]

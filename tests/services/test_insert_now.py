"""insert_now: one Core INSERT for a new row, which then behaves as a flushed ORM object."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action, Status
from dsr.domain.requests import RequestType
from dsr.models import DataSubjectRequest, OutboxMessage, RequestPause
from dsr.models.insert import insert_now
from dsr.services.requests import transition
from tests.factories import make_request

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def new_request(reference: str) -> DataSubjectRequest:
    return DataSubjectRequest(
        reference=reference,
        request_type=RequestType.ACCESS,
        jurisdiction="eu_gdpr",
        requester_name="Ada Lovelace",
        requester_email="ada@example.org",
        due_on=(NOW + timedelta(days=30)).date(),
    )


def statements(session) -> list[str]:
    seen: list[str] = []
    event.listen(session.connection(), "before_cursor_execute", lambda *args: seen.append(args[2].split()[0]))
    return seen


def test_the_row_is_stored_with_its_column_defaults_and_nothing_is_read_back(session):
    request = new_request("DSR-2026-INSR-T001")
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
    request = insert_now(session, new_request("DSR-2026-INSR-T002"))
    transition(session, Actor.system("tests"), NOW, request, Action.VERIFY)
    request.pauses.append(RequestPause(started_at=NOW, reason="waiting"))
    session.commit()
    session.expire_all()
    assert request.status is Status.VERIFIED and request.version == 2 and len(request.pauses) == 1


def test_a_row_the_database_refuses_leaves_the_transaction_to_roll_back(session):
    taken = make_request(session, NOW)
    session.commit()
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        insert_now(session, new_request(taken.reference))
    session.rollback()
    assert session.scalar(select(DataSubjectRequest).where(DataSubjectRequest.reference == taken.reference)) == taken


def test_it_refuses_what_it_cannot_do(session):
    with pytest.raises(ValueError, match="not in a session"):
        insert_now(session, make_request(session, NOW))
    owner = make_request(session, NOW)
    related = OutboxMessage(channel="email", recipient="a@example.org", template="x", request=owner)
    with pytest.raises(ValueError, match="set the foreign key columns"):
        insert_now(session, related)

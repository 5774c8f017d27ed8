"""Requests through the services: references, due dates, lifecycle moves, clock changes, audit."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.clock import LegalClock
from dsr.domain.errors import ClockError, IllegalTransition
from dsr.domain.lifecycle import Action, Status
from dsr.domain.requests import RequestType
from dsr.models import AuditEvent, DataSubjectRequest
from dsr.models.request import REFERENCE_ALPHABET
from dsr.services import deadlines
from dsr.services.requests import transition
from tests.factories import make_request

DUBLIN = LegalClock("Europe/Dublin")
LONDON = LegalClock("Europe/London")
staff = Actor.system("tests")


def events(session, request):
    return session.scalars(
        select(AuditEvent.action).where(AuditEvent.request_id == request.id).order_by(AuditEvent.id)
    ).all()


def test_submitted_request_gets_reference_and_due_date(session):
    received = datetime(2028, 1, 31, 10, tzinfo=UTC)
    request = make_request(session, received, email="  Ada@Example.ORG ")
    assert request.status is Status.SUBMITTED
    assert request.due_on == date(2028, 2, 29)
    assert request.requester_email == "ada@example.org"
    year, body = request.reference.split("-", 2)[1:]
    assert year == "2028" and len(body) == 9 and all(c in REFERENCE_ALPHABET for c in body.replace("-", ""))
    assert events(session, request) == ["request.submitted"]


def test_references_are_unique_and_not_sequential(session):
    refs = [make_request(session).reference for _ in range(20)]
    assert len(set(refs)) == 20
    assert refs != sorted(refs)  # chance of 20 random references already sorted: 1 / 20!


def test_lifecycle_moves_are_stored_and_audited(session):
    now = datetime(2026, 5, 4, 9, tzinfo=UTC)
    request = make_request(session, now)
    transition(session, staff, now, request, Action.VERIFY)
    transition(session, staff, now + timedelta(hours=1), request, Action.START)
    transition(session, staff, now + timedelta(days=2), request, Action.COMPLETE)
    session.commit()
    stored = session.get(DataSubjectRequest, request.id)
    assert stored.status is Status.COMPLETED
    assert stored.verified_at == now
    assert stored.closed_at == now + timedelta(days=2)
    assert events(session, request) == ["request.submitted", "request.verify", "request.start", "request.complete"]


def test_illegal_move_changes_nothing(session):
    request = make_request(session)
    with pytest.raises(IllegalTransition):
        transition(session, staff, datetime.now(UTC), request, Action.COMPLETE)
    session.rollback()
    assert session.get(DataSubjectRequest, request.id).status is Status.SUBMITTED
    assert events(session, request) == ["request.submitted"]


def test_reopen_clears_closed_time(session):
    now = datetime(2026, 5, 4, 9, tzinfo=UTC)
    request = make_request(session, now)
    for action in (Action.VERIFY, Action.START, Action.COMPLETE, Action.REOPEN):
        transition(session, staff, now, request, action)
    assert request.status is Status.IN_PROGRESS and request.closed_at is None


def test_pause_and_resume_move_the_stored_due_date(session):
    received = datetime(2026, 1, 5, 12, tzinfo=UTC)
    request = make_request(session, received, jurisdiction="uk_gdpr", timezone="Europe/London")
    assert request.due_on == date(2026, 2, 5)
    deadlines.pause_clock(session, staff, datetime(2026, 1, 10, 9, tzinfo=UTC), request, LONDON, "asked for ID")
    deadlines.resume_clock(session, staff, datetime(2026, 1, 17, 15, tzinfo=UTC), request, LONDON)
    session.commit()
    assert session.get(DataSubjectRequest, request.id).due_on == date(2026, 2, 12)
    assert events(session, request)[-2:] == ["clock.paused", "clock.resumed"]


def test_pause_refused_under_eu_gdpr(session):
    request = make_request(session, jurisdiction="eu_gdpr")
    with pytest.raises(ClockError):
        deadlines.pause_clock(session, staff, datetime.now(UTC), request, DUBLIN, "asked for ID")


def test_extension_once_with_reason(session):
    received = datetime(2026, 3, 10, 12, tzinfo=UTC)
    request = make_request(session, received)
    with pytest.raises(ClockError, match="reason"):
        deadlines.extend_deadline(session, staff, received, request, DUBLIN, "  ")
    deadlines.extend_deadline(session, staff, received + timedelta(days=5), request, DUBLIN, "Complex: 14 systems")
    session.commit()
    assert request.due_on == date(2026, 6, 10)
    with pytest.raises(ClockError, match="already been extended"):
        deadlines.extend_deadline(session, staff, received + timedelta(days=6), request, DUBLIN, "again")


def test_extension_refused_after_the_original_due_date(session):
    received = datetime(2026, 3, 10, 12, tzinfo=UTC)
    request = make_request(session, received)
    with pytest.raises(ClockError, match="10 April 2026"):
        deadlines.extend_deadline(session, staff, datetime(2026, 4, 11, 9, tzinfo=UTC), request, DUBLIN, "late")


def test_changing_jurisdiction_recomputes_due_date_and_drops_an_extension_it_does_not_allow(session):
    received = datetime(2026, 3, 10, 12, tzinfo=UTC)
    request = make_request(session, received)
    deadlines.extend_deadline(session, staff, received, request, DUBLIN, "complex")
    deadlines.change_jurisdiction(session, staff, received, request, DUBLIN, "br_lgpd")
    session.commit()
    assert request.due_on == date(2026, 3, 25)
    assert not request.is_extended
    assert events(session, request)[-1] == "request.jurisdiction_changed"


def test_edited_rule_changes_new_due_dates(session):
    from dsr.models import DeadlineRule

    row = session.scalar(select(DeadlineRule).where(DeadlineRule.jurisdiction == "br_lgpd"))
    row.respond_amount = 10
    session.commit()
    request = make_request(session, datetime(2026, 3, 10, 12, tzinfo=UTC), jurisdiction="br_lgpd")
    assert request.due_on == date(2026, 3, 20)


def test_requests_of_every_type_get_a_due_date(session):
    for request_type in RequestType:
        request = make_request(session, datetime(2026, 12, 18, 18, tzinfo=UTC), request_type, "us_ca_ccpa")
        expected = date(2027, 1, 12) if request_type in {"consent_withdrawal", "restriction"} else date(2027, 2, 1)
        assert request.due_on == expected, request_type


def test_unverified_requests_expire_after_the_window(session):
    from dsr.services.requests import expire_unverified

    old = make_request(session, datetime(2026, 11, 1, 9, tzinfo=UTC))
    recent = make_request(session, datetime(2026, 11, 10, 9, tzinfo=UTC))
    verified = make_request(session, datetime(2026, 11, 1, 9, tzinfo=UTC))
    transition(session, staff, datetime(2026, 11, 2, tzinfo=UTC), verified, Action.VERIFY)
    now = datetime(2026, 11, 15, 10, tzinfo=UTC)
    assert expire_unverified(session, now, window_days=14) == 1
    session.commit()
    assert (old.status, recent.status, verified.status) == (Status.EXPIRED, Status.SUBMITTED, Status.VERIFIED)
    assert old.closed_at == now
    assert expire_unverified(session, now, window_days=14) == 0

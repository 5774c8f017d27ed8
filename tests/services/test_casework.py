"""Every staff action and its guards: wrong state, wrong person, second extension, late extension."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from dsr.domain.clock import LegalClock
from dsr.domain.errors import ClockError, DomainError, IllegalTransition
from dsr.domain.lifecycle import Action, Status
from dsr.domain.requests import RejectionReason, RequestType
from dsr.domain.verification import Factor
from dsr.models import MessageKind, RequestMessage, Role
from dsr.notify.links import Links
from dsr.services import casework, intake
from dsr.services.bundles import BundlePolicy
from dsr.services.letters import Draft, send_letter
from dsr.services.requests import transition
from dsr.services.users import actor_for
from dsr.services.verification import record_factor
from tests.factories import make_request, make_user, outbox_texts

LONDON = LegalClock("Europe/London")
DUBLIN = LegalClock("Europe/Dublin")
POLICY = BundlePolicy()
LINKS = Links(verify_link=lambda t: f"https://dsr.example/verify/{t}", status_link=lambda r: "https://dsr.example/s/x")
T0 = datetime(2026, 3, 10, 12, tzinfo=UTC)
DRAFTS = lambda key, request: Draft(f"{key} subject", f"{key} for {request.reference}")  # noqa: E731


@pytest.fixture
def people(session):
    sam = make_user(session, "sam@acme-crm.example", Role.STAFF, "Sam Staff")
    kim = make_user(session, "kim@acme-crm.example", Role.STAFF, "Kim Staff")
    ada = make_user(session, "ada@acme-crm.example", Role.ADMIN, "Ada Admin")
    return sam, kim, ada


def verified(session, jurisdiction="eu_gdpr", request_type=RequestType.ACCESS, email="ada@example.org", at=T0):
    request = make_request(session, at, request_type, jurisdiction, email=email)
    transition(session, casework.Actor.system("tests"), at, request, Action.VERIFY)
    session.commit()
    return request


def test_staff_claim_unassigned_work_but_not_someone_elses(session, people):
    sam, kim, ada = people
    request = verified(session)
    casework.assign(session, actor_for(sam), T0, request, sam)
    assert request.assignee == sam
    assert casework.can_act(sam, request) and not casework.can_act(kim, request) and casework.can_act(ada, request)
    with pytest.raises(casework.NotAllowed):
        casework.assign(session, actor_for(kim), T0, request, kim)
    casework.assign(session, actor_for(sam), T0, request, None)  # let it go
    with pytest.raises(casework.NotAllowed):
        casework.assign(session, actor_for(sam), T0, request, kim)  # only admins assign others
    casework.assign(session, actor_for(ada), T0, request, kim)
    assert request.assignee == kim


def test_inactive_staff_cannot_be_assigned(session, people):
    sam, kim, ada = people
    kim.active = False
    with pytest.raises(DomainError, match="inactive"):
        casework.assign(session, actor_for(ada), T0, verified(session), kim)


def test_confidential_requests_are_hidden_from_other_staff(session, people):
    sam, kim, ada = people
    request = verified(session)
    with pytest.raises(casework.NotAllowed):
        casework.set_confidential(session, actor_for(sam), T0, request, True)
    casework.set_confidential(session, actor_for(ada), T0, request, True)
    assert not casework.can_view(sam, request) and casework.can_view(ada, request)
    casework.assign(session, actor_for(ada), T0, request, sam)
    assert casework.can_view(sam, request) and not casework.can_view(kim, request)


def test_request_information_pauses_the_uk_clock_until_the_reply(session, people):
    sam = people[0]
    request = verified(session, "uk_gdpr", at=datetime(2026, 1, 5, 12, tzinfo=UTC))
    assert request.due_on == date(2026, 2, 5)
    paused = casework.request_information(
        session, actor_for(sam), datetime(2026, 1, 10, 9, tzinfo=UTC), request, LONDON, "Need ID", "Send ID", LINKS
    )
    assert paused and request.status is Status.AWAITING_REQUESTER and request.is_paused
    intake.reply(session, datetime(2026, 1, 17, 15, tzinfo=UTC), request, "Here it is", LONDON)
    session.commit()
    assert request.status is Status.IN_PROGRESS and not request.is_paused
    assert request.due_on == date(2026, 2, 12)
    kinds = session.scalars(select(RequestMessage.kind).order_by(RequestMessage.id)).all()
    assert kinds == [MessageKind.TO_REQUESTER, MessageKind.FROM_REQUESTER]
    assert outbox_texts(session, template="letter") == ["Send ID\n\nYour request page: https://dsr.example/s/x"]


def test_request_information_does_not_stop_the_eu_clock(session, people):
    request = verified(session, "eu_gdpr")
    due = request.due_on
    assert not casework.request_information(session, actor_for(people[0]), T0, request, DUBLIN, "s", "b", LINKS)
    assert request.due_on == due and not request.is_paused


def test_request_information_is_refused_when_closed(session, people):
    request = verified(session)
    transition(session, casework.Actor.system("t"), T0, request, Action.COMPLETE)
    with pytest.raises(IllegalTransition):
        casework.request_information(session, actor_for(people[0]), T0, request, DUBLIN, "s", "b", LINKS)


def test_extension_fills_the_letter_and_is_allowed_once(session, people):
    request = verified(session)
    body = "We need until {due_date} because {reason}."
    casework.extend(
        session, actor_for(people[0]), T0, request, DUBLIN, "14 systems to search", "More time", body, LINKS
    )
    assert request.due_on == date(2026, 6, 10)
    assert outbox_texts(session, template="letter")[0].startswith("We need until 10 June 2026 because 14 systems")
    with pytest.raises(ClockError, match="already been extended"):
        casework.extend(session, actor_for(people[0]), T0, request, DUBLIN, "again", "s", body, LINKS)


def test_extension_after_the_notice_window_is_refused(session, people):
    request = verified(session)
    late = datetime(2026, 4, 11, 9, tzinfo=UTC)
    with pytest.raises(ClockError, match="10 April 2026"):
        casework.extend(session, actor_for(people[0]), late, request, DUBLIN, "late", "s", "b", LINKS)


def test_extension_refused_where_the_law_allows_none(session, people):
    request = verified(session, "br_lgpd")
    with pytest.raises(ClockError, match="no extension"):
        casework.extend(session, actor_for(people[0]), T0, request, DUBLIN, "why", "s", "b", LINKS)


def test_reject_records_the_reason_and_sends_the_letter(session, people):
    request = verified(session)
    casework.reject(session, actor_for(people[0]), T0, request, RejectionReason.EXCESSIVE, "No", "Refused", LINKS)
    assert request.status is Status.REJECTED and request.rejection_reason is RejectionReason.EXCESSIVE
    assert request.closed_at == T0
    with pytest.raises(IllegalTransition):
        casework.reject(session, actor_for(people[0]), T0, request, RejectionReason.OTHER, "s", "b", LINKS)


def test_empty_letters_are_refused(session, people):
    with pytest.raises(DomainError, match="subject and a text"):
        send_letter(session, actor_for(people[0]), T0, verified(session), "  ", "body", LINKS)


def test_complete_and_reopen_within_the_window_only(session, people):
    request = verified(session, request_type=RequestType.OBJECTION)
    with pytest.raises(DomainError, match="only within 30 days"):
        casework.reopen(session, actor_for(people[0]), T0, request, 30)
    casework.start_work(session, actor_for(people[0]), T0, request)
    casework.complete(session, actor_for(people[0]), T0, request, "Done", "All done", LINKS, POLICY)
    with pytest.raises(DomainError, match="only within 30 days"):
        casework.reopen(session, actor_for(people[0]), T0 + timedelta(days=31), request, 30)
    casework.reopen(session, actor_for(people[0]), T0 + timedelta(days=29), request, 30)
    assert request.status is Status.IN_PROGRESS and request.closed_at is None and request.is_open


def test_complete_needs_a_verified_request(session, people):
    request = make_request(session, T0)
    with pytest.raises(IllegalTransition):
        casework.complete(session, actor_for(people[0]), T0, request, "s", "b", LINKS, POLICY)


def test_access_request_cannot_complete_without_its_bundle(session, people):
    request = verified(session)
    with pytest.raises(DomainError, match="Build the data bundle before completing"):
        casework.complete(session, actor_for(people[0]), T0, request, "s", "b", LINKS, POLICY)


def test_manual_verification_needs_a_real_note_and_a_waiting_request(session, people):
    request = make_request(session, T0, RequestType.DELETION)
    with pytest.raises(DomainError, match="Say how"):
        casework.verify_manually(session, actor_for(people[0]), T0, request, "ok", DRAFTS, LINKS)
    casework.verify_manually(session, actor_for(people[0]), T0, request, "Saw passport on video call", DRAFTS, LINKS)
    assert request.status is Status.VERIFIED and Factor.MANUAL in request.factors
    with pytest.raises(DomainError, match="waiting for an identity check"):
        casework.verify_manually(
            session, actor_for(people[0]), T0, request, "Saw passport on video call", DRAFTS, LINKS
        )


def test_duplicates_are_flagged_only_between_verified_requests(session):
    first = verified(session)
    unverified = make_request(session, T0, email="ada@example.org")
    assert unverified.duplicate_of is None
    second = make_request(session, T0 + timedelta(days=1), email="ada@example.org")
    record_factor(session, casework.Actor.requester(), T0, second, Factor.EMAIL)
    record_factor(session, casework.Actor.requester(), T0, second, Factor.DATA_POINT)
    assert second.status is Status.VERIFIED and second.duplicate_of == first
    other_type = make_request(session, T0, RequestType.OBJECTION, email="ada@example.org")
    record_factor(session, casework.Actor.requester(), T0, other_type, Factor.EMAIL)
    assert other_type.status is Status.VERIFIED and other_type.duplicate_of is None

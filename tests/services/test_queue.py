"""The queue: due-date order, keyset pages without gaps or repeats, each filter, visibility, counts."""

from datetime import UTC, date, datetime, timedelta

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action, Status
from dsr.domain.requests import RequestType
from dsr.models import Role
from dsr.services.queue import Cursor, QueueFilter, overdue_count, queue_page, status_counts
from dsr.services.requests import transition
from tests.factories import make_request, make_user

T0 = datetime(2026, 1, 5, 12, tzinfo=UTC)
TODAY = date(2026, 2, 20)


def seed(session, count=12):
    requests = []
    for i in range(count):
        kind = [RequestType.ACCESS, RequestType.DELETION, RequestType.OBJECTION][i % 3]
        place = ["eu_gdpr", "in_dpdp"][i % 2]
        requests.append(make_request(session, T0 + timedelta(days=i * 3), kind, place, email=f"p{i}@example.org"))
    return requests


def refs(page):
    return [r.reference for r in page.requests]


def test_pages_follow_due_dates_without_gaps_or_repeats(session):
    sam = make_user(session)
    everyone = seed(session, 12)
    expected = [r.reference for r in sorted(everyone, key=lambda r: (r.due_on, r.id))]
    seen, cursor = [], None
    while True:
        page = queue_page(session, sam, QueueFilter(), TODAY, cursor, size=5)
        seen += refs(page)
        if page.next_cursor is None:
            break
        cursor = Cursor.decode(page.next_cursor.encode())
    assert seen == expected


def test_filters(session):
    sam = make_user(session)
    kim = make_user(session, "kim@acme-crm.example", name="Kim")
    requests = seed(session, 12)
    requests[0].assignee = sam
    requests[1].assignee = kim
    transition(session, Actor.system("t"), T0, requests[2], Action.WITHDRAW)
    session.commit()

    def find(**wanted):
        return set(refs(queue_page(session, sam, QueueFilter(**wanted), TODAY)))

    all_refs = {r.reference for r in requests}
    assert find() == all_refs - {requests[2].reference}
    assert find(status="all") == all_refs
    assert find(status="withdrawn") == {requests[2].reference}
    assert find(assignee="mine") == {requests[0].reference}
    assert find(assignee=kim.public_id) == {requests[1].reference}
    assert requests[0].reference not in find(assignee="unassigned")
    assert find(request_type="deletion") == {r.reference for r in requests if r.request_type == "deletion"} - {
        requests[2].reference
    }
    assert find(jurisdiction="in_dpdp") == {r.reference for r in requests[1::2]}
    overdue = {r.reference for r in requests if r.due_on < TODAY and r.is_open}
    assert overdue and find(overdue=True) == overdue
    assert overdue_count(session, sam, TODAY) == len(overdue)


def test_search_by_reference_email_and_name_prefix(session):
    sam = make_user(session)
    ada = make_request(session, T0, email="ada@example.org")
    ada.requester_name, ada.search_name = "Ada Lovelace", "ada lovelace"
    other = make_request(session, T0, email="adam@example.org")
    other.requester_name, other.search_name = "Adam_Smith", "adam_smith"
    session.commit()

    def find(text):
        return refs(queue_page(session, sam, QueueFilter(search=text), TODAY))

    assert find(ada.reference.lower()) == [ada.reference]
    assert find("ADA@example.org") == [ada.reference]
    assert set(find("Ada")) == {ada.reference, other.reference}
    assert find("ada l") == [ada.reference]
    assert find("adam_") == [other.reference]  # an underscore is a letter here, not a wildcard
    assert find("ada%") == []
    assert find("zed") == []


def test_confidential_requests_stay_out_of_other_staff_queues(session):
    sam = make_user(session)
    admin = make_user(session, "ada@acme-crm.example", Role.ADMIN, "Ada")
    secret, public = seed(session, 2)
    secret.confidential = True
    session.commit()
    assert refs(queue_page(session, sam, QueueFilter(), TODAY)) == [public.reference]
    assert set(refs(queue_page(session, admin, QueueFilter(), TODAY))) == {secret.reference, public.reference}
    assert sum(status_counts(session, sam).values()) == 1
    secret.assignee = sam
    session.commit()
    assert len(refs(queue_page(session, sam, QueueFilter(), TODAY))) == 2


def test_counts_per_open_status(session):
    sam = make_user(session)
    a, b, c = seed(session, 3)
    transition(session, Actor.system("t"), T0, a, Action.VERIFY)
    transition(session, Actor.system("t"), T0, b, Action.REJECT)
    session.commit()
    counts = status_counts(session, sam)
    assert counts[Status.SUBMITTED] == 1 and counts[Status.VERIFIED] == 1 and counts[Status.IN_PROGRESS] == 0
    assert Status.REJECTED not in counts


def test_tampered_cursor_is_ignored():
    assert Cursor.decode("!!!not-base64") is None
    assert Cursor.decode("bm9wZQ") is None
    assert Cursor.decode(Cursor(date(2026, 1, 1), 7).encode()) == Cursor(date(2026, 1, 1), 7)

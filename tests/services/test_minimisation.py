"""Closed requests lose their identifiers after the record-keeping period; the register still adds up."""

import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action
from dsr.domain.uploads import IncomingFile, UploadLimits
from dsr.models import AuditEvent, DataSubjectRequest, MessageKind, RequestAttachment, RequestMessage
from dsr.services.attachments import UploadStore, attach
from dsr.services.audit_verify import verify_chain
from dsr.services.minimisation import MINIMISED, minimise_closed
from dsr.services.requests import transition
from tests.factories import make_request

KEY = b"k" * 32
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 17
CLOSED = datetime(2024, 1, 10, 9, tzinfo=UTC)


def closed_request(session, when=CLOSED, email="ada@example.org"):
    request = make_request(session, when, email=email)
    request.requester_phone = "+447700900123"
    request.details = "My account number is 42"
    request.form_data = {"data_point": "AC-42"}
    session.add(RequestMessage(request_id=request.id, kind=MessageKind.TO_REQUESTER, body="Dear Ada", created_at=when))
    transition(session, Actor.system("t"), when, request, Action.REJECT)
    session.commit()
    return request


def test_requests_closed_more_than_24_months_ago_are_minimised(session):
    old = closed_request(session)
    recent = closed_request(session, datetime(2025, 6, 1, tzinfo=UTC), "bob@example.org")
    still_open = make_request(session, CLOSED, email="carol@example.org")
    now = datetime(2026, 1, 11, 9, tzinfo=UTC)
    assert minimise_closed(session, now, 24, KEY) == 1
    session.commit()
    session.expire_all()
    old, recent, still_open = (session.get(DataSubjectRequest, r.id) for r in (old, recent, still_open))
    assert old.requester_name == MINIMISED and old.requester_email.startswith("sha256:")
    assert "ada" not in old.requester_email and old.details == "" and old.form_data == {}
    assert old.requester_phone.startswith("sha256:") and old.minimised_at == now
    assert old.reference and old.received_at and old.closed_at and old.status.value == "rejected"
    assert session.scalar(select(RequestMessage.body).where(RequestMessage.request_id == old.id)) == MINIMISED
    assert recent.requester_email == "bob@example.org" and still_open.requester_email == "carol@example.org"
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "request.minimised")) is not None
    assert minimise_closed(session, now, 24, KEY) == 0  # done once only


def test_the_same_email_hashes_the_same_so_counts_per_person_still_work(session):
    a = closed_request(session)
    b = closed_request(session)
    minimise_closed(session, datetime(2027, 1, 1, tzinfo=UTC), 24, KEY)
    session.commit()
    assert a.requester_email == b.requester_email


def test_attached_files_are_deleted_with_the_request_data(session, tmp_path):
    request = closed_request(session)
    message = session.scalar(select(RequestMessage).where(RequestMessage.request_id == request.id))
    store = UploadStore(tmp_path, [b"f" * 32])
    files = [IncomingFile("passport.pdf", io.BytesIO(b"%PDF-1.4 scan")), IncomingFile("a.png", io.BytesIO(PNG))]
    attach(session, CLOSED, request, message, files, store, UploadLimits(1024, 3, 20))
    session.commit()
    assert len(list(tmp_path.iterdir())) == 2
    now = datetime(2026, 1, 11, 9, tzinfo=UTC)
    with pytest.raises(ValueError):  # a caller that forgets the store would leave the files behind
        minimise_closed(session, now, 24, KEY)
    session.rollback()
    assert minimise_closed(session, now, 24, KEY, uploads=UploadStore(tmp_path)) == 1
    session.commit()
    assert list(tmp_path.iterdir()) == [] and session.scalar(select(RequestAttachment)) is None
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "request.minimised"))
    assert event.details["files"] == 2


def trail(session) -> list[tuple]:
    """Every audit event's facts and its place in the hash chain, in chain order."""
    session.expire_all()
    return [
        (e.id, e.chain_seq, e.occurred_at, e.actor_kind, e.actor_label, e.request_id, e.action, e.details,
         e.prev_hash, e.entry_hash)
        for e in session.scalars(select(AuditEvent).order_by(AuditEvent.chain_seq))
    ]  # fmt: skip


def test_minimisation_keeps_the_audit_trail_whole_and_its_chain_intact(session):
    old, other_old = closed_request(session), closed_request(session, email="bob@example.org")
    recent = closed_request(session, datetime(2025, 6, 1, tzinfo=UTC), "carol@example.org")
    before = trail(session)
    assert {row[5] for row in before} >= {old.id, other_old.id, recent.id} and verify_chain(session).ok

    now = datetime(2026, 1, 11, 9, tzinfo=UTC)
    assert minimise_closed(session, now, 24, KEY) == 2
    session.commit()

    after = trail(session)
    assert after[: len(before)] == before  # every earlier event, its facts and its hashes, untouched
    added = after[len(before) :]
    assert sorted((row[6], row[5]) for row in added) == sorted(
        [("request.minimised", old.id), ("request.minimised", other_old.id)]
    )
    report = verify_chain(session)
    assert report.ok, report.describe()
    assert report.checked == len(after) == len(before) + 2

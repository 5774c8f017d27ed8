"""Requesters attach files to a reply; staff see them on the timeline and download them decrypted."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action, Status
from dsr.models import AuditEvent, DataSubjectRequest, RequestAttachment, Role
from dsr.services.requests import transition
from tests.factories import make_user
from tests.web.conftest import STAFF_EMAIL, csrf_token, sign_in
from tests.web.test_status_page import verified

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20 + b"\xff\xd9"


def upload(data: bytes, name: str, content_type: str = "application/octet-stream"):
    return (io.BytesIO(data), name, content_type)


def reply(client, reference: str, body: str = "", files=()):
    page = f"/my-request/{reference}"
    return client.post(
        page + "/reply",
        data={"body": body, "attachments": list(files), "csrf_token": csrf_token(client, page)},
        content_type="multipart/form-data",
    )


def awaiting(client, session) -> DataSubjectRequest:
    """A verified request of this client's, waiting for the requester to send more information."""
    filed = verified(client, session)
    transition(session, Actor.system("tests"), datetime.now(UTC), filed, Action.REQUEST_INFO)
    session.commit()
    return filed


def test_a_reply_with_files_is_kept_encrypted_and_shown_to_both_sides(app, client, session):
    filed = awaiting(client, session)
    response = reply(
        client,
        filed.reference,
        "Here is my passport.",
        [upload(PDF, "My Passport.pdf", "application/pdf"), upload(PNG, "../../etc/selfie.png")],
    )
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "with 2 files" in page and "My Passport.pdf" in page and "selfie.png" in page
    session.expire_all()
    assert session.get(DataSubjectRequest, filed.id).status is Status.IN_PROGRESS  # the reply resumed the work
    rows = session.scalars(select(RequestAttachment).order_by(RequestAttachment.id)).all()
    assert [(r.display_name, r.kind.value, r.size) for r in rows] == [
        ("My Passport.pdf", "application/pdf", len(PDF)),
        ("selfie.png", "image/png", len(PNG)),
    ]
    assert rows[0].sha256 == hashlib.sha256(PDF).hexdigest()
    folder = Path(app.config["DSR_UPLOAD_DIR"])
    stored = [(folder / r.file_name).read_bytes() for r in rows]
    assert all(r.file_name.endswith(".enc") and "Passport" not in r.file_name for r in rows)
    assert PDF not in stored[0] and b"%PDF" not in stored[0] and PNG[:8] not in stored[1]  # encrypted at rest


def test_staff_download_the_file_decrypted_as_an_attachment(app, client, session):
    filed = awaiting(client, session)
    reply(client, filed.reference, "", [upload(JPEG, "scan <front>.jpeg", "image/jpeg")])
    make_user(session, STAFF_EMAIL, Role.STAFF, "Sam Staff")
    staff = app.test_client()
    sign_in(staff, STAFF_EMAIL)
    page = staff.get(f"/staff/requests/{filed.reference}").get_data(as_text=True)
    attached = session.scalar(select(RequestAttachment))
    link = f"/staff/requests/{filed.reference}/attachments/{attached.public_id}"
    assert link in page and "scan _front.jpg" in page and "JPEG image" in page
    download = staff.get(link)
    assert download.status_code == 200 and download.data == JPEG
    assert download.headers["Content-Type"] == "image/jpeg"
    assert download.headers["Content-Disposition"].startswith('attachment; filename="scan _front.jpg"')
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert download.headers["Cache-Control"] == "no-store"
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "attachment.downloaded")) is not None


def test_staff_who_may_not_act_see_the_name_but_cannot_download(app, client, session):
    filed = awaiting(client, session)
    reply(client, filed.reference, "ID attached", [upload(PDF, "id.pdf")])
    owner = make_user(session, "olga@acme-crm.example", Role.STAFF, "Olga Owner")
    make_user(session, STAFF_EMAIL, Role.STAFF, "Sam Staff")
    filed = session.get(DataSubjectRequest, filed.id)
    filed.assignee = owner
    session.commit()
    staff = app.test_client()
    sign_in(staff, STAFF_EMAIL)
    attached = session.scalar(select(RequestAttachment))
    page = staff.get(f"/staff/requests/{filed.reference}").get_data(as_text=True)
    assert "id.pdf" in page and f"/attachments/{attached.public_id}" not in page
    assert staff.get(f"/staff/requests/{filed.reference}/attachments/{attached.public_id}").status_code == 403


def test_files_only_reply_too_many_files_and_the_per_request_cap(app, client, session, monkeypatch):
    filed = awaiting(client, session)
    assert "Write your message." in reply(client, filed.reference, "  ").get_data(as_text=True)
    four = [upload(PDF, f"page{n}.pdf") for n in range(4)]
    too_many = reply(client, filed.reference, "all pages", four)
    assert too_many.status_code == 400 and "Attach at most 3 files" in too_many.get_data(as_text=True)
    assert reply(client, filed.reference, "", [upload(PDF, "only.pdf")]).status_code == 302
    monkeypatch.setitem(app.config, "DSR_UPLOAD_MAX_PER_REQUEST", 2)
    files_before = sorted(Path(app.config["DSR_UPLOAD_DIR"]).iterdir())
    over = reply(client, filed.reference, "two more", [upload(PDF, "a.pdf"), upload(PNG, "b.png")])
    assert over.status_code == 400 and "already has 1 files; at most 2" in over.get_data(as_text=True)
    assert session.scalars(select(RequestAttachment.display_name)).all() == ["only.pdf"]
    assert sorted(Path(app.config["DSR_UPLOAD_DIR"]).iterdir()) == files_before  # nothing written

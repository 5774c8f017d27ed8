"""Builders for test data, going through the same services the app uses."""

from __future__ import annotations

from datetime import UTC, date, datetime

from dsr.domain.actors import Actor
from dsr.domain.clock import LegalClock
from dsr.domain.requests import RequestType
from dsr.models import DataSubjectRequest, Role, StaffUser
from dsr.services import users
from dsr.services.requests import NewRequest, submit_request

PASSWORD = "correct horse battery staple"


def make_user(
    session,
    email: str = "sam@acme-crm.example",
    role: Role = Role.STAFF,
    name: str = "Sam Staff",
    password: str = PASSWORD,
) -> StaffUser:
    user = users.create_user(session, Actor.system("tests"), datetime.now(UTC), email, name, role, password)
    session.commit()
    return user


def request_row(reference: str, due_on: date = date(2026, 4, 1)) -> DataSubjectRequest:
    """A new request object, not in any session: for tests of how rows are written."""
    return DataSubjectRequest(
        reference=reference,
        request_type=RequestType.ACCESS,
        jurisdiction="eu_gdpr",
        requester_name="Ada Lovelace",
        requester_email="ada@example.org",
        due_on=due_on,
    )


def make_request(
    session,
    now: datetime | None = None,
    request_type: RequestType = RequestType.ACCESS,
    jurisdiction: str = "eu_gdpr",
    email: str = "ada@example.org",
    timezone: str = "Europe/Dublin",
):
    request = submit_request(
        session,
        Actor.requester(),
        now or datetime.now(UTC),
        NewRequest(request_type, jurisdiction, "Ada Lovelace", email),
        LegalClock(timezone),
    )
    session.commit()
    return request


def outbox_texts(session, to: str | None = None, template: str | None = None) -> list[str]:
    """Plain-text bodies of queued messages, oldest first (decrypted as the admin outbox page does)."""
    from sqlalchemy import select

    from dsr.encryption import current_cipher
    from dsr.models import OutboxMessage

    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if to is not None:
        query = query.where(OutboxMessage.recipient == to)
    if template is not None:
        query = query.where(OutboxMessage.template == template)
    return [current_cipher().decrypt_text(row.body_text_encrypted) for row in session.scalars(query)]


def code_in(text: str) -> str:
    import re

    return re.search(r"(?<![\d-])(\d{6})(?![\d-])", text).group(1)


def link_in(text: str, path: str) -> str:
    import re

    return re.search(rf"https?://[^\s\"<>]+{path}[^\s\"<>]+", text).group(0)

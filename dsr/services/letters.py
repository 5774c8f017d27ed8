"""Letter templates: seeding the defaults, filling one in for a request, admins editing them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.clock import LegalClock
from dsr.domain.errors import DomainError
from dsr.domain.letters import DEFAULT_LETTERS, check_placeholders, fill
from dsr.domain.profile import OrganisationProfile
from dsr.models import DataSubjectRequest, MessageKind, RequestMessage, ResponseTemplate
from dsr.notify.links import Links
from dsr.notify.outbox import queue_email
from dsr.services.audit import record_event


@dataclass(frozen=True)
class Draft:
    subject: str
    body: str


# (template key, request) -> the template filled in; the web layer binds profile and clock.
Drafter = Callable[[str, DataSubjectRequest], Draft]


def seed_letters(session: Session) -> int:
    existing = set(session.scalars(select(ResponseTemplate.key)))
    missing = [letter for letter in DEFAULT_LETTERS if letter.key not in existing]
    session.add_all(ResponseTemplate(key=t.key, title=t.title, subject=t.subject, body=t.body) for t in missing)
    session.flush()
    return len(missing)


def template(session: Session, key: str) -> ResponseTemplate:
    found = session.scalar(select(ResponseTemplate).where(ResponseTemplate.key == key))
    if found is None:
        raise DomainError(f"There is no letter template {key!r}.")
    return found


def draft(
    session: Session,
    key: str,
    request: DataSubjectRequest,
    profile: OrganisationProfile,
    clock: LegalClock,
    keep: tuple[str, ...] = (),
) -> Draft:
    """The template filled in for this request, for staff to edit; `keep` placeholders stay for later."""
    values = {
        "name": request.requester_name,
        "reference": request.reference,
        "request_type": request.request_type.label.lower(),
        "received_date": f"{clock.local_date(request.received_at):%-d %B %Y}",
        "due_date": f"{request.due_on:%-d %B %Y}" if request.due_on else "",
        "organisation": profile.name,
        "contact_email": profile.contact_email,
    }
    for name in keep:
        values.pop(name, None)
    found = template(session, key)
    return Draft(fill(found.subject, values), fill(found.body, values))


def update_template(
    session: Session, actor: Actor, now: datetime, found: ResponseTemplate, subject: str, body: str
) -> None:
    check_placeholders(subject)
    check_placeholders(body)
    if (found.subject, found.body) != (subject, body):
        found.subject, found.body = subject, body
        record_event(session, actor, "letters.updated", now, template=found.key)
    session.flush()


def send_letter(
    session: Session,
    actor: Actor,
    now: datetime,
    request: DataSubjectRequest,
    subject: str,
    body: str,
    links: Links,
    values: dict[str, str] | None = None,
) -> RequestMessage:
    """A message to the requester: kept on the request (their status page shows it) and emailed."""
    subject, body = fill(subject, values or {}).strip(), fill(body, values or {}).strip()
    if not subject or not body:
        raise DomainError("A letter needs a subject and a text.")
    message = RequestMessage(
        request_id=request.id, kind=MessageKind.TO_REQUESTER, body=body, author_id=actor.user_id, created_at=now
    )
    session.add(message)
    queue_email(
        session,
        now,
        to=request.requester_email,
        template="letter",
        request=request,
        context={"subject": subject, "body": body, "status_link": links.status_link(request)},
    )
    record_event(session, actor, "request.message_sent", now, request)
    session.flush()
    return message


def acknowledge(
    session: Session, actor: Actor, now: datetime, request: DataSubjectRequest, drafts: Drafter, links: Links
) -> None:
    """The acknowledgement letter, sent once the identity check is complete."""
    letter = drafts("acknowledgement", request)
    send_letter(session, actor, now, request, letter.subject, letter.body, links)

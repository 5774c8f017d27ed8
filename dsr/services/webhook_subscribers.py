"""Webhook subscribers: other systems told about status and consent changes, each with its own secret.

The secret is kept encrypted (not hashed): every delivery attempt is signed with it at send time.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor
from dsr.domain.api import WebhookEvent, join_list
from dsr.domain.errors import DomainError
from dsr.encryption import Cipher, InvalidToken
from dsr.models import WebhookDelivery, WebhookSubscriber
from dsr.services.audit import record_event

SECRET_MIN_LENGTH = 16


@dataclass(frozen=True)
class SubscriberSettings:
    name: str
    url: str
    events: frozenset[WebhookEvent]
    include_identifiers: bool = False
    active: bool = True


def new_secret() -> str:
    return f"whsec_{secrets.token_urlsafe(32)}"


def _checked(settings: SubscriberSettings) -> SubscriberSettings:
    if not settings.url.startswith(("https://", "http://")) or len(settings.url) > 1000:
        raise DomainError("The address must start with https:// (or http:// on a private network).")
    if not settings.events:
        raise DomainError("Choose at least one kind of event.")
    return settings


def _checked_secret(secret: str) -> str:
    if len(secret) < SECRET_MIN_LENGTH:
        raise DomainError(f"A secret needs at least {SECRET_MIN_LENGTH} characters.")
    return secret


def create_subscriber(
    session: Session, actor: Actor, now: datetime, cipher: Cipher, settings: SubscriberSettings, secret: str
) -> WebhookSubscriber:
    _checked(settings)
    subscriber = WebhookSubscriber(
        name=settings.name.strip(),
        url=settings.url.strip(),
        secret_encrypted=cipher.encrypt_text(_checked_secret(secret)),
        events_wanted=join_list(settings.events),
        include_identifiers=settings.include_identifiers,
        active=settings.active,
        created_by_id=actor.user_id,
        created_at=now,
        secret_set_at=now,
    )
    session.add(subscriber)
    session.flush()
    record_event(session, actor, "webhook.subscriber_created", now, **_facts(subscriber))
    return subscriber


def update_subscriber(
    session: Session, actor: Actor, now: datetime, subscriber: WebhookSubscriber, settings: SubscriberSettings
) -> None:
    _checked(settings)
    subscriber.name = settings.name.strip()
    subscriber.url = settings.url.strip()
    subscriber.events_wanted = join_list(settings.events)
    subscriber.include_identifiers = settings.include_identifiers
    subscriber.active = settings.active
    record_event(session, actor, "webhook.subscriber_changed", now, **_facts(subscriber))
    session.flush()


def replace_secret(
    session: Session, actor: Actor, now: datetime, cipher: Cipher, subscriber: WebhookSubscriber, secret: str
) -> None:
    """Deliveries still waiting in the outbox are signed with the new secret (signing happens at send time)."""
    subscriber.secret_encrypted = cipher.encrypt_text(_checked_secret(secret))
    subscriber.secret_set_at = now
    record_event(session, actor, "webhook.secret_replaced", now, subscriber=subscriber.public_id)
    session.flush()


def _facts(subscriber: WebhookSubscriber) -> dict:
    return {
        "subscriber": subscriber.public_id,
        "events": subscriber.events_wanted,
        "identifiers": subscriber.include_identifiers,
        "active": subscriber.active,
    }


def subscribers(session: Session) -> list[WebhookSubscriber]:
    return list(session.scalars(select(WebhookSubscriber).order_by(WebhookSubscriber.name, WebhookSubscriber.id)))


def subscribers_for(session: Session, event: WebhookEvent) -> list[WebhookSubscriber]:
    """The active subscribers that asked for this kind of event."""
    active = session.scalars(
        select(WebhookSubscriber).where(WebhookSubscriber.active.is_(True)).order_by(WebhookSubscriber.id)
    )
    return [s for s in active if event in s.events]


def by_public_id(session: Session, public_id: str) -> WebhookSubscriber | None:
    return session.scalar(select(WebhookSubscriber).where(WebhookSubscriber.public_id == public_id))


def signing_secret(session: Session, cipher: Cipher, public_id: str) -> bytes | None:
    """The secret an outbox row's "subscriber:<public_id>" names, at send time (None: gone or unreadable)."""
    subscriber = by_public_id(session, public_id)
    if subscriber is None:
        return None
    try:
        return cipher.decrypt_text(subscriber.secret_encrypted).encode()
    except InvalidToken:
        return None


def deliveries(
    session: Session, subscriber: WebhookSubscriber, limit: int, before: int | None = None
) -> list[WebhookDelivery]:
    """The delivery log, newest first (keyset pages: continue below the last id shown)."""
    query = select(WebhookDelivery).where(WebhookDelivery.subscriber_id == subscriber.id)
    if before:
        query = query.where(WebhookDelivery.id < before)
    return list(session.scalars(query.order_by(WebhookDelivery.id.desc()).limit(limit)))

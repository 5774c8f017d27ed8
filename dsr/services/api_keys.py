"""API keys: created and revoked by admins, presented by other systems, stored only as keyed hashes.

A key is 256 random bits, so a fast keyed hash is enough: nobody can guess it back from the hash,
the HMAC key (DSR_API_HASH_KEY) is not in the database, so a stolen table cannot even be used to
check guesses, and a slow password hash would only add latency to every call.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from dsr.domain.actors import Actor, ActorKind
from dsr.domain.api import Scope, generate_key, join_list, key_prefix
from dsr.domain.errors import DomainError
from dsr.models import ApiKey
from dsr.services.audit import record_event

# last_used_at is written at most this often per key.
TOUCH_EVERY = timedelta(minutes=1)


def key_digest(hash_key: bytes, presented: str) -> str:
    return hmac.new(hash_key, presented.encode(), hashlib.sha256).hexdigest()


def create_api_key(
    session: Session, actor: Actor, now: datetime, hash_key: bytes, name: str, scopes: Iterable[Scope]
) -> tuple[ApiKey, str]:
    """The new key's row and the key itself, which the caller shows once and never stores."""
    chosen = frozenset(scopes)
    if not chosen:
        raise DomainError("Choose at least one scope.")
    while True:
        new = generate_key()
        if session.scalar(select(ApiKey.id).where(ApiKey.prefix == new.prefix)) is None:
            break
    key = ApiKey(
        name=name.strip(),
        prefix=new.prefix,
        secret_hash=key_digest(hash_key, new.full),
        scopes_granted=join_list(chosen),
        created_by_id=actor.user_id,
        created_at=now,
    )
    session.add(key)
    session.flush()
    record_event(
        session, actor, "api_key.created", now, key=key.public_id, prefix=key.prefix, scopes=key.scopes_granted
    )
    return key, new.full


def revoke_api_key(session: Session, actor: Actor, now: datetime, key: ApiKey) -> None:
    if key.revoked_at is not None:
        raise DomainError("This key is already revoked.")
    key.revoked_at = now
    key.revoked_by_id = actor.user_id
    record_event(session, actor, "api_key.revoked", now, key=key.public_id, prefix=key.prefix)
    session.flush()


def api_keys(session: Session) -> list[ApiKey]:
    """Active keys first, then revoked ones; newest first within each."""
    return list(
        session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.created_at.desc(), ApiKey.id))
    )


class Refusal(StrEnum):
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    REVOKED = "revoked"


@dataclass(frozen=True)
class Authentication:
    key: ApiKey | None
    refusal: Refusal | None = None


def authenticate(session: Session, hash_key: bytes, presented: str) -> Authentication:
    """Which key this is, or why it is refused. "Revoked" is only said to someone holding the real key."""
    prefix = key_prefix(presented)
    if prefix is None:
        return Authentication(None, Refusal.MALFORMED)
    key = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if key is None or not hmac.compare_digest(key.secret_hash, key_digest(hash_key, presented)):
        return Authentication(None, Refusal.UNKNOWN)
    if key.revoked_at is not None:
        return Authentication(None, Refusal.REVOKED)
    return Authentication(key)


def touch(key: ApiKey, now: datetime) -> bool:
    """Record that the key was used; True when the row changed (the caller commits)."""
    if key.last_used_at is not None and now - key.last_used_at < TOUCH_EVERY:
        return False
    key.last_used_at = now
    return True


def actor_for_key(key: ApiKey) -> Actor:
    return Actor(ActorKind.API, f"API key {key.name} ({key.shown_as})"[:200])

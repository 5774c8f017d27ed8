"""The audit trail's hash chain: what one link's SHA-256 covers, independent of any database.

Each event's hash covers its chain position, its recorded facts and the previous event's hash, so
changing, removing or inserting an event breaks every later link. The serialisation is versioned:
a future format gets a new prefix and older links stay verifiable.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

FORMAT = "dsr-audit-v1"
GENESIS = "0" * 64  # the "previous hash" of the first event


@dataclass(frozen=True)
class LinkFields:
    """The facts of one event that its hash covers (everything but its database id)."""

    seq: int
    occurred_at: datetime
    actor_kind: str
    actor_user_id: int | None
    actor_label: str
    request_id: int | None
    action: str
    details: Any


def canonical(fields: LinkFields, prev_hash: str) -> bytes:
    """One JSON array with sorted keys and no spaces: the same bytes whatever produced the values."""
    payload = [
        FORMAT,
        fields.seq,
        fields.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        str(fields.actor_kind),
        fields.actor_user_id,
        fields.actor_label,
        fields.request_id,
        fields.action,
        fields.details,
        prev_hash,
    ]
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link_hash(fields: LinkFields, prev_hash: str) -> str:
    return hashlib.sha256(canonical(fields, prev_hash)).hexdigest()

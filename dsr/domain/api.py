"""What other systems may do (API key scopes), what they may be told (webhook events), and the key format."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    REQUESTS_WRITE = "requests:write"
    REQUESTS_READ = "requests:read"
    CONSENT_READ = "consent:read"
    SUPPRESSION_READ = "suppression:read"

    @property
    def label(self) -> str:
        return SCOPE_LABELS[self]


SCOPE_LABELS = {
    Scope.REQUESTS_WRITE: "File requests on a person's behalf (they still confirm their identity)",
    Scope.REQUESTS_READ: "Read a request's status, type and dates (never the requester's details)",
    Scope.CONSENT_READ: "Read a person's consents, restrictions and objections by email or phone",
    Scope.SUPPRESSION_READ: "Ask whether an email, phone or customer id is on the do-not-contact list",
}


class WebhookEvent(StrEnum):
    REQUEST_STATUS_CHANGED = "request.status_changed"
    CONSENT_CHANGED = "consent.changed"

    @property
    def label(self) -> str:
        return EVENT_LABELS[self]


EVENT_LABELS = {
    WebhookEvent.REQUEST_STATUS_CHANGED: "Request status changes (reference, type, old and new status)",
    WebhookEvent.CONSENT_CHANGED: "Consent changes (the person's id, topic, granted or withdrawn)",
}


def parse_list(text: str, vocabulary: type[StrEnum]) -> frozenset:
    """A comma-separated column back into enum members; unknown words (an older release's) are dropped."""
    known = {member.value: member for member in vocabulary}
    return frozenset(known[word] for word in text.split(",") if word in known)


def join_list(members) -> str:
    return ",".join(sorted(str(member) for member in members))


# dsr_<10 hex: the public prefix, for lookup and display>_<43 url-safe characters: 256 random bits>
KEY_PATTERN = re.compile(r"^dsr_(?P<prefix>[0-9a-f]{10})_(?P<secret>[A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class NewKey:
    prefix: str
    full: str  # shown to the admin once, never stored


def generate_key() -> NewKey:
    prefix = secrets.token_hex(5)
    return NewKey(prefix, f"dsr_{prefix}_{secrets.token_urlsafe(32)}")


def key_prefix(presented: str) -> str | None:
    """The lookup prefix of a well-formed key, else None."""
    match = KEY_PATTERN.match(presented)
    return match.group("prefix") if match else None


def display_prefix(prefix: str) -> str:
    return f"dsr_{prefix}_…"

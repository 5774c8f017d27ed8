"""`webhook` systems: a signed job over HTTPS, and a signed callback with the results.

Both directions are signed the same way, with the system's shared secret:

    X-DSR-Timestamp: <unix seconds>
    X-DSR-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

The receiver refuses a signature that does not match or a timestamp more than five minutes away,
so a captured request cannot be replayed later. Sending is the outbox's job; this module only
builds, signs and verifies.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from dsr.domain.dataset import SubjectIdentities, System, SystemKind, expand
from dsr.domain.requests import RequestType

TIMESTAMP_HEADER = "X-DSR-Timestamp"
SIGNATURE_HEADER = "X-DSR-Signature"
TOLERANCE = timedelta(minutes=5)


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The X-DSR-Signature value for `body` sent at `timestamp`."""
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(secret: bytes, body: bytes, now: datetime) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(secret, body, timestamp),
    }


def verify(
    secret: bytes,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    now: datetime,
    tolerance: timedelta = TOLERANCE,
) -> bool:
    """True only for an untampered body, signed with `secret`, at a time close to `now`."""
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if abs(now.timestamp() - int(timestamp)) > tolerance.total_seconds():
        return False
    return hmac.compare_digest(sign(secret, body, int(timestamp)), signature)


def webhook_secret(system: System, environ: Mapping[str, str] | None = None) -> bytes:
    return expand(system.secret, os.environ if environ is None else environ).encode()


@dataclass(frozen=True)
class WebhookJob:
    """A job ready for the outbox: POST `body` with `headers` to `url`."""

    system_key: str
    url: str
    body: bytes
    headers: dict[str, str]


def build_job(
    system: System,
    job_id: str,
    request_reference: str,
    request_type: RequestType,
    identities: SubjectIdentities,
    callback_url: str,
    now: datetime,
    environ: Mapping[str, str] | None = None,
) -> WebhookJob:
    """The signed job for one request; the system answers by POSTing its results to `callback_url`."""
    if system.kind is not SystemKind.WEBHOOK:
        raise ValueError(f"{system.name} is not a webhook system.")
    payload = {
        "job_id": job_id,
        "request": {"reference": request_reference, "type": str(request_type)},
        "subject": {str(kind): value for kind, value in identities.items()},
        "callback_url": callback_url,
        "issued_at": now.isoformat(),
    }
    body = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
    url = expand(system.url, os.environ if environ is None else environ)
    return WebhookJob(system.key, url, body, signed_headers(webhook_secret(system, environ), body, now))

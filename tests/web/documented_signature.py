"""Webhook signatures as the README documents them for the systems on the other end, written with hashlib
and hmac only — never with dsr.sources.webhook — so a change of format fails the tests even when the
app's own `sign` and `verify` change with it:

    X-DSR-Timestamp: <Unix seconds of this attempt>
    X-DSR-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from datetime import datetime

TIMESTAMP = "X-DSR-Timestamp"
SIGNATURE = "X-DSR-Signature"
TOLERANCE_SECONDS = 300  # the README's `genuine`: five minutes either way


def documented_signature(secret: bytes, body: bytes, timestamp: str) -> str:
    return "sha256=" + hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def genuine(secret: bytes, body: bytes, headers: Mapping[str, str], now: datetime) -> bool:
    """The README's receiving-side check, with the test's clock for time.time(), and the timestamp must be
    `now` itself: each attempt is signed when it is sent (the tests deliver at a fixed clock)."""
    timestamp, signature = headers.get(TIMESTAMP) or "", headers.get(SIGNATURE) or ""
    if not timestamp.isdigit() or abs(now.timestamp() - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    if int(timestamp) != int(now.timestamp()):
        return False
    if not re.fullmatch(r"sha256=[0-9a-f]{64}", signature):
        return False
    return hmac.compare_digest(documented_signature(secret, body, timestamp), signature)


def documented_headers(secret: bytes, body: bytes, now: datetime) -> dict[str, str]:
    """What a provider or partner system sends us, built from the README alone."""
    timestamp = str(int(now.timestamp()))
    return {
        "Content-Type": "application/json",
        TIMESTAMP: timestamp,
        SIGNATURE: documented_signature(secret, body, timestamp),
    }

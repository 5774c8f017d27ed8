"""Outgoing webhooks through the outbox: a JSON body POSTed to a URL with an HMAC-SHA256 signature.

The signature covers a timestamp taken when each attempt is sent (receivers reject stale ones), so
the secret is looked up at send time from the message's `signing_key_ref`: "system:<key>" for a
`webhook` system of the data inventory, "subscriber:<id>" for an API webhook subscriber. The
outbox's message id goes out as Idempotency-Key so a receiver can drop a resend after a crash.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from dsr.notify.messages import SendResult
from dsr.sources.webhook import signed_headers

RETRYABLE_CLIENT_ERRORS = (408, 409, 425, 429)
SecretLookup = Callable[[str], bytes | None]


@dataclass(frozen=True)
class OutgoingWebhook:
    message_id: str
    url: str
    body: bytes
    signing_key_ref: str | None


class WebhookSender:
    def __init__(self, secrets: SecretLookup, timeout: float = 10.0, clock: Callable[[], datetime] | None = None):
        self.secrets = secrets
        self.timeout = timeout
        self.clock = clock or (lambda: datetime.now(UTC))

    @contextmanager
    def connect(self) -> Iterator[WebhookSender]:
        yield self  # every webhook may go to a different host: nothing to share

    def send(self, hook: OutgoingWebhook) -> SendResult:
        if not hook.url.startswith(("https://", "http://")):
            return SendResult.permanent("the webhook address is not http(s)")
        secret = self.secrets(hook.signing_key_ref) if hook.signing_key_ref else None
        if hook.signing_key_ref and not secret:
            return SendResult.transient(f"no signing secret configured for {hook.signing_key_ref}")
        headers = signed_headers(secret, hook.body, self.clock()) if secret else {"Content-Type": "application/json"}
        headers["Idempotency-Key"] = hook.message_id
        post = urllib.request.Request(hook.url, data=hook.body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(post, timeout=self.timeout) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as exc:
            error = f"{exc.code} {exc.reason}"[:500]
            exc.close()
            if 400 <= exc.code < 500 and exc.code not in RETRYABLE_CLIENT_ERRORS:
                return SendResult.permanent(error)
            return SendResult.transient(error)
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            return SendResult.transient(f"cannot reach the webhook: {type(reason).__name__}")
        return SendResult.sent()

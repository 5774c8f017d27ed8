"""SMS backends: an HTTP provider for real delivery, the console for development.

Same shape as the mail backends: `with sms.connect() as connection: connection.send(text)`.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol
from urllib.parse import urlsplit

from config import ConfigurationError
from dsr.notify.messages import BackendUnavailable, ConsoleBackend, OutgoingSms, SendResult, Unconfigured

SMS_BACKENDS = ("console", "http")
# Worth asking again later even though they are 4xx answers.
RETRYABLE_CLIENT_ERRORS = {408, 425, 429}


class SmsConnection(Protocol):
    def send(self, sms: OutgoingSms) -> SendResult: ...


class SmsSender(Protocol):
    def connect(self) -> AbstractContextManager[SmsConnection]: ...


class ConsoleSms(ConsoleBackend):
    """Development (DSR_SMS_BACKEND=console): texts are only shown on Admin → Outbox."""

    noun = "text message"


class HttpSms:
    """POSTs {"to", "from", "body"} as JSON with a bearer token; 2xx sent, 5xx retried, 4xx refused.

    The outbox Message-ID goes along as an Idempotency-Key header, for providers that de-duplicate.
    """

    def __init__(self, url: str, *, token: str, sender: str, timeout: float = 10.0) -> None:
        if urlsplit(url).scheme not in ("http", "https"):
            raise ConfigurationError("DSR_SMS_URL must be an http:// or https:// URL.")
        self.url, self.token, self.sender, self.timeout = url, token, sender, timeout

    @contextmanager
    def connect(self) -> Iterator[SmsConnection]:
        yield self

    def send(self, sms: OutgoingSms) -> SendResult:
        payload = json.dumps({"to": sms.to, "from": self.sender, "body": sms.body}).encode()
        post = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            self.url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.token}",
                "Idempotency-Key": sms.message_id,
            },
        )
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
            raise BackendUnavailable(f"cannot reach the SMS provider: {_describe(reason)}") from exc
        return SendResult.sent()


def _describe(reason: object) -> str:
    if isinstance(reason, TimeoutError):
        return "timed out"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror[:400]
    return str(reason)[:400] if isinstance(reason, str) else type(reason).__name__


def sms_from_config(config: Mapping[str, Any]) -> SmsSender:
    """DSR_SMS_BACKEND: `http` (DSR_SMS_URL, DSR_SMS_TOKEN, DSR_SMS_FROM) or `console`."""
    backend = (config.get("DSR_SMS_BACKEND") or "console").lower()
    if backend not in SMS_BACKENDS:
        raise ConfigurationError(f"DSR_SMS_BACKEND must be one of {', '.join(SMS_BACKENDS)}.")
    if backend == "console":
        if config.get("ENV_NAME") == "production":
            return Unconfigured("no SMS provider configured: set DSR_SMS_BACKEND=http and DSR_SMS_URL")
        return ConsoleSms()
    missing = [name for name in ("DSR_SMS_URL", "DSR_SMS_TOKEN", "DSR_SMS_FROM") if not config.get(name)]
    if missing:
        raise ConfigurationError("DSR_SMS_BACKEND=http needs " + ", ".join(missing) + ".")
    return HttpSms(config["DSR_SMS_URL"], token=config["DSR_SMS_TOKEN"], sender=config["DSR_SMS_FROM"])

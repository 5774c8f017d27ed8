"""What the backends are given to send, and what they report back."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

log = logging.getLogger("dsr.notify")


@dataclass(frozen=True)
class OutgoingEmail:
    message_id: str
    to: str
    subject: str
    text: str
    html: str | None
    date: datetime


@dataclass(frozen=True)
class OutgoingSms:
    message_id: str
    to: str
    body: str


class Outcome(StrEnum):
    SENT = "sent"
    TRANSIENT = "transient"  # try again later: server down, timeout, 4xx
    PERMANENT = "permanent"  # retrying cannot help: recipient refused, 5xx


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    # The transport's answer, for the admin outbox page; never the message body or the recipient.
    error: str = ""

    @classmethod
    def sent(cls) -> SendResult:
        return cls(Outcome.SENT)

    @classmethod
    def transient(cls, error: str) -> SendResult:
        return cls(Outcome.TRANSIENT, error)

    @classmethod
    def permanent(cls, error: str) -> SendResult:
        return cls(Outcome.PERMANENT, error)


class BackendUnavailable(Exception):
    """The transport cannot take any message now (connection refused, lost, timed out, misconfigured).

    The message is safe to store and show to admins: it never carries a message body.
    """


class Unconfigured:
    """Stands in for a backend production has not configured: messages wait instead of vanishing."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def connect(self):
        raise BackendUnavailable(self.reason)


class ConsoleBackend:
    """Development: accepts every message without sending it; developers read them on Admin → Outbox.

    Only a count is logged, never an address or a body (logs carry no personal data).
    """

    noun = "message"

    @contextmanager
    def connect(self) -> Iterator[_CountingConnection]:
        connection = _CountingConnection()
        yield connection
        if connection.count:
            log.info(
                "delivered %d %s(s) to the console backend; read them on Admin → Outbox", connection.count, self.noun
            )


class _CountingConnection:
    def __init__(self) -> None:
        self.count = 0

    def send(self, message: Any) -> SendResult:
        self.count += 1
        return SendResult.sent()

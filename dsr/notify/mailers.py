"""Email backends: SMTP for real delivery, the console for development.

A backend opens one connection per delivery batch (`with mailer.connect() as connection:`) and
answers each `connection.send(email)` with a SendResult. Failures that stop the whole batch
(connection refused, lost or timed out) raise BackendUnavailable.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Protocol

from config import ConfigurationError
from dsr.notify.messages import BackendUnavailable, ConsoleBackend, OutgoingEmail, SendResult, Unconfigured

SECURITY_MODES = ("none", "starttls", "ssl")
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}


class MailConnection(Protocol):
    def send(self, email: OutgoingEmail) -> SendResult: ...


class Mailer(Protocol):
    def connect(self) -> AbstractContextManager[MailConnection]: ...


class ConsoleMailer(ConsoleBackend):
    """Development, when DSR_SMTP_HOST is unset: emails are only shown on Admin → Outbox."""


class SmtpMailer:
    def __init__(
        self,
        host: str,
        *,
        sender: str,
        port: int | None = None,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        if security not in SECURITY_MODES:
            raise ConfigurationError(f"DSR_SMTP_SECURITY must be one of {', '.join(SECURITY_MODES)}.")
        self.host, self.sender, self.security = host, sender, security
        self.port = port or DEFAULT_PORTS[security]
        self.username, self.password, self.timeout = username, password, timeout

    @contextmanager
    def connect(self) -> Iterator[MailConnection]:
        try:
            smtp = self._open()
        except (OSError, smtplib.SMTPException) as exc:
            raise BackendUnavailable(f"cannot reach the mail server: {describe(exc)}") from exc
        try:
            yield _SmtpConnection(smtp, self.sender)
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()

    def _open(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.security == "ssl":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp


class _SmtpConnection:
    def __init__(self, smtp: smtplib.SMTP, sender: str) -> None:
        self.smtp, self.sender = smtp, sender

    def send(self, email: OutgoingEmail) -> SendResult:
        try:
            message = build_message(email, self.sender)
        except ValueError as exc:
            return SendResult.permanent(f"the message could not be built: {type(exc).__name__}")
        try:
            self.smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()), (550, b"recipient refused"))
            return _by_code(code, reply)
        except (smtplib.SMTPDataError, smtplib.SMTPSenderRefused) as exc:
            # A refused sender is our configuration, not this message: wait for it to be fixed.
            permanent = isinstance(exc, smtplib.SMTPDataError)
            return _by_code(exc.smtp_code, exc.smtp_error, permanent_allowed=permanent)
        except smtplib.SMTPNotSupportedError:
            return SendResult.permanent("the mail server does not accept internationalised addresses (SMTPUTF8)")
        except (OSError, smtplib.SMTPException) as exc:
            raise BackendUnavailable(f"mail server connection failed: {describe(exc)}") from exc
        return SendResult.sent()


def _by_code(code: int, reply: bytes | str, permanent_allowed: bool = True) -> SendResult:
    text = f"{code} {_text(reply)}"[:500]
    return SendResult.permanent(text) if permanent_allowed and 500 <= code < 600 else SendResult.transient(text)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def describe(exc: BaseException) -> str:
    """A short, body-free description of a transport error for last_error."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{exc.smtp_code} {_text(exc.smtp_error)}"[:400]
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror[:400]
    return type(exc).__name__


def build_message(email: OutgoingEmail, sender: str) -> EmailMessage:
    """multipart/alternative (text, then HTML) with the Message-ID fixed when it was queued."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = format_datetime(email.date)
    message["Message-ID"] = email.message_id
    # RFC 3834: automatic notifications; asks out-of-office responders not to answer.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    return message


def mailer_from_config(config: Mapping[str, Any]) -> Mailer:
    """SMTP when DSR_SMTP_HOST is set; otherwise the console (development, tests) or nothing (production)."""
    host = config.get("DSR_SMTP_HOST")
    if not host:
        if config.get("ENV_NAME") == "production":
            return Unconfigured("no mail server configured: set DSR_SMTP_HOST and DSR_MAIL_FROM")
        return ConsoleMailer()
    sender = config.get("DSR_MAIL_FROM")
    if not sender:
        raise ConfigurationError("DSR_MAIL_FROM is required when DSR_SMTP_HOST is set.")
    return SmtpMailer(
        host,
        sender=sender,
        port=config.get("DSR_SMTP_PORT"),
        security=(config.get("DSR_SMTP_SECURITY") or "starttls").lower(),
        username=config.get("DSR_SMTP_USERNAME"),
        password=config.get("DSR_SMTP_PASSWORD"),
        timeout=float(config.get("DSR_SMTP_TIMEOUT") or 30),
    )

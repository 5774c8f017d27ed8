"""The notification outbox: every email and SMS, written in the transaction that causes it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import db
from dsr.models.request import DataSubjectRequest
from dsr.models.types import UTCDateTime, enum_column, utcnow
from dsr.models.user import new_public_id


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WEBHOOK = "webhook"  # recipient is a URL; the body is JSON, signed when each attempt is sent


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # claimed by a worker until claimed_until
    SENT = "sent"
    FAILED = "failed"  # permanently refused, or out of attempts; an admin may retry it


class OutboxMessage(db.Model):
    __tablename__ = "outbox_message"
    __table_args__ = (Index("ix_outbox_message_status_next_attempt", "status", "next_attempt_at"),)

    # BigInteger on servers, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # Used in admin URLs instead of the sequential primary key.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    recipient: Mapped[str] = mapped_column(String(1000))  # an address, a phone number or a webhook URL
    subject: Mapped[str] = mapped_column(String(300), default="")  # empty for SMS
    # Fernet tokens (dsr.encryption.Cipher): message bodies carry codes and personal data.
    body_text_encrypted: Mapped[str] = mapped_column(Text)
    body_html_encrypted: Mapped[str | None] = mapped_column(Text)  # emails only
    template: Mapped[str] = mapped_column(String(100))
    # Webhooks only: which secret signs the body ("system:<key>" or "subscriber:<id>").
    signing_key_ref: Mapped[str | None] = mapped_column(String(100))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("dsr_request.id", ondelete="SET NULL"), index=True)
    request: Mapped[DataSubjectRequest | None] = relationship()

    status: Mapped[OutboxStatus] = mapped_column(enum_column(OutboxStatus), default=OutboxStatus.PENDING)
    # Counted when a worker claims the message, so a message that crashes workers still runs out.
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The claiming worker's lease; a message still `sending` after it is reclaimed.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The transport's answer (e.g. "550 5.1.1 mailbox unavailable"); never the message body.
    last_error: Mapped[str | None] = mapped_column(String(500))
    # RFC 5322 Message-ID fixed at queue time, so receivers can drop a resend after a crash.
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:
        return f"<OutboxMessage {self.public_id} {self.channel} {self.status}>"

"""Other systems: API keys (stored as keyed hashes), webhook subscribers and what was sent to each."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.domain.api import Scope, WebhookEvent, display_prefix, parse_list
from dsr.extensions import db
from dsr.models.outbox import OutboxMessage
from dsr.models.types import UTCDateTime, utcnow
from dsr.models.user import StaffUser, new_public_id


class ApiKey(db.Model):
    __tablename__ = "api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Used in admin URLs instead of the sequential primary key.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(100))
    # The key's public part ("dsr_<prefix>_…"): finds the row without a scan, and names the key in logs.
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    # HMAC-SHA256 of the whole key under DSR_API_HASH_KEY (hex); the key itself is never stored.
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes_granted: Mapped[str] = mapped_column(String(200))  # comma-separated Scope values
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_by: Mapped[StaffUser | None] = relationship(foreign_keys=[created_by_id])
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Written at most once a minute per key, so busy keys do not write on every call.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    revoked_by: Mapped[StaffUser | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def scopes(self) -> frozenset[Scope]:
        return parse_list(self.scopes_granted, Scope)

    @property
    def shown_as(self) -> str:
        return display_prefix(self.prefix)

    def __repr__(self) -> str:
        return f"<ApiKey {self.prefix} {self.name!r}>"


class WebhookSubscriber(db.Model):
    __tablename__ = "webhook_subscriber"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    name: Mapped[str] = mapped_column(String(100))
    url: Mapped[str] = mapped_column(String(1000))
    # Fernet token (dsr.encryption.Cipher): the secret must be readable to sign each delivery.
    secret_encrypted: Mapped[str] = mapped_column(Text)
    events_wanted: Mapped[str] = mapped_column(String(200))  # comma-separated WebhookEvent values
    # Consent events name the person by DSR Desk's opaque id; with this flag also by their verified email/phone.
    include_identifiers: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_by: Mapped[StaffUser | None] = relationship()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    secret_set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def events(self) -> frozenset[WebhookEvent]:
        return parse_list(self.events_wanted, WebhookEvent)

    @property
    def signing_key_ref(self) -> str:
        """How an outbox row names this subscriber's secret (resolved by dsr.notify.delivery at send time)."""
        return f"subscriber:{self.public_id}"

    def __repr__(self) -> str:
        return f"<WebhookSubscriber {self.public_id} {self.url}>"


class WebhookDelivery(db.Model):
    """One event queued for one subscriber: the outbox row that carries it, for the delivery log."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_subscriber_id_id", "subscriber_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriber.id", ondelete="CASCADE"))
    message_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("outbox_message.id", ondelete="CASCADE"), index=True
    )
    message: Mapped[OutboxMessage] = relationship(lazy="joined")
    event: Mapped[str] = mapped_column(String(64))
    # The event's id as sent in the payload: the same for every subscriber that receives it.
    event_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

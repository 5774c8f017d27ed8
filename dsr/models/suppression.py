"""The "do not contact" list: keyed hashes of erased identifiers, never the identifiers themselves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dsr.extensions import db
from dsr.models.types import UTCDateTime, utcnow


class SuppressionEntry(db.Model):
    __tablename__ = "suppression_entry"
    __table_args__ = (UniqueConstraint("kind", "digest", name="uq_suppression_entry_kind_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # email, phone or customer_id
    digest: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256 of the normalised identifier
    request_id: Mapped[int | None] = mapped_column(ForeignKey("dsr_request.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

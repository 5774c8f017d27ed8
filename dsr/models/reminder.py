"""Reminders already sent to staff, one row per unique reminder key (dsr.domain.reminders.ReminderKey)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dsr.extensions import db
from dsr.models.types import UTCDateTime, utcnow


class SentReminder(db.Model):
    """Written in the same transaction as the reminder's outbox message; the unique key is the
    guarantee that no scheduler process, rerun or restart sends the same reminder twice."""

    __tablename__ = "sent_reminder"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    # ReminderKey.text: kind, recipient, request, the date it is about, and the day for daily ones.
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("dsr_request.id", ondelete="CASCADE"), index=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"))
    # The due date (or acknowledgement date) the reminder was about; a moved date is a new key.
    about: Mapped[date | None] = mapped_column(Date)
    on_day: Mapped[date | None] = mapped_column(Date)
    # Null when there was nothing to say (an empty digest is recorded so the day counts as done).
    message_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), ForeignKey("outbox_message.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    def __repr__(self) -> str:
        return f"<SentReminder {self.key}>"

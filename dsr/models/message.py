"""Messages on a request: internal notes, messages to the requester and the requester's replies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.extensions import db
from dsr.models.request import DataSubjectRequest
from dsr.models.types import UTCDateTime, enum_column, utcnow
from dsr.models.user import StaffUser

if TYPE_CHECKING:
    from dsr.models.attachment import RequestAttachment


class MessageKind(StrEnum):
    NOTE = "note"  # internal, never shown to the requester
    TO_REQUESTER = "to_requester"
    FROM_REQUESTER = "from_requester"

    @property
    def visible_to_requester(self) -> bool:
        return self is not MessageKind.NOTE


class RequestMessage(db.Model):
    __tablename__ = "request_message"
    __table_args__ = (Index("ix_request_message_request_time", "request_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("dsr_request.id", ondelete="CASCADE"))
    request: Mapped[DataSubjectRequest] = relationship()
    kind: Mapped[MessageKind] = mapped_column(enum_column(MessageKind))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    author: Mapped[StaffUser | None] = relationship()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Files the requester attached to this reply (dsr.models.attachment).
    attachments: Mapped[list[RequestAttachment]] = relationship(
        back_populates="message", order_by="RequestAttachment.id", passive_deletes=True
    )

"""Files a requester attached to a reply (an ID document for a manual identity check, say).

The file itself lives encrypted in DSR_UPLOAD_DIR under a random name; this row says what it is.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.domain.uploads import FileKind, size_text
from dsr.extensions import db
from dsr.models.message import RequestMessage
from dsr.models.types import UTCDateTime, enum_column, utcnow
from dsr.models.user import new_public_id


class RequestAttachment(db.Model):
    __tablename__ = "request_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Used in download URLs instead of the sequential primary key.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    request_id: Mapped[int] = mapped_column(ForeignKey("dsr_request.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("request_message.id", ondelete="CASCADE"), index=True)
    message: Mapped[RequestMessage] = relationship(back_populates="attachments")
    # Random, inside DSR_UPLOAD_DIR: never a name the uploader chose.
    file_name: Mapped[str] = mapped_column(String(64), unique=True)
    # The uploader's name for it, cleaned (dsr.domain.uploads.display_name); shown to staff only.
    display_name: Mapped[str] = mapped_column(String(120))
    # What the content is (sniffed from its first bytes), not what the browser said.
    kind: Mapped[FileKind] = mapped_column(enum_column(FileKind))
    size: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))  # plaintext bytes
    sha256: Mapped[str] = mapped_column(String(64))  # of the plaintext, for evidence
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def size_text(self) -> str:
        return size_text(self.size)

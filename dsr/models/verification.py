"""One-time codes and single-use links that prove a requester controls an email or phone."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.domain.verification import Factor
from dsr.extensions import db
from dsr.models.request import DataSubjectRequest
from dsr.models.types import UTCDateTime, enum_column, utcnow


class ChallengeState(StrEnum):
    ACTIVE = "active"
    USED = "used"
    VOID = "void"  # too many wrong codes, or replaced by a newer challenge


class VerificationChallenge(db.Model):
    __tablename__ = "verification_challenge"
    __table_args__ = (Index("ix_verification_challenge_request_channel", "request_id", "channel", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("dsr_request.id", ondelete="CASCADE"))
    request: Mapped[DataSubjectRequest] = relationship()
    channel: Mapped[Factor] = mapped_column(enum_column(Factor))
    # "verify" proves identity; "download" unlocks one bundle download. Each has its own cooldown and cap.
    purpose: Mapped[str] = mapped_column(String(16), default="verify", server_default="verify")
    state: Mapped[ChallengeState] = mapped_column(enum_column(ChallengeState), default=ChallengeState.ACTIVE)
    # Keyed hashes (HMAC with a server secret): a leaked table does not reveal codes or links.
    code_hash: Mapped[str] = mapped_column(String(64))
    link_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    code_expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    link_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

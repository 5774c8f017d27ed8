"""Append-only audit events: who did what to which request, and when; hash-chained at commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dsr.domain.actors import ActorKind
from dsr.extensions import db
from dsr.models.types import UTCDateTime, enum_column, utcnow

BIG_ID = BigInteger().with_variant(Integer, "sqlite")


class AuditEvent(db.Model):
    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_request_time", "request_id", "occurred_at"),
        # Admin → Audit log filters by action (or an action prefix) and by actor, newest first.
        Index("ix_audit_event_action_id", "action", "id"),
        Index("ix_audit_event_actor_id", "actor_user_id", "id"),
        # The chain order; `flask dsr audit verify` walks it. NULL only until the writing transaction commits.
        Index("ux_audit_event_chain_seq", "chain_seq", unique=True),
    )

    # BigInteger on servers, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_kind: Mapped[ActorKind] = mapped_column(enum_column(ActorKind))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    # A label that stays readable if the user is later removed ("Ada Admin", "requester", "scheduler").
    actor_label: Mapped[str] = mapped_column(String(200))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("dsr_request.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    # Facts about the change; personal data is kept out where it can be.
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    # The hash chain (dsr.services.audit_chain): position, the previous event's hash and this one's.
    chain_seq: Mapped[int | None] = mapped_column(BigInteger)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    entry_hash: Mapped[str | None] = mapped_column(String(64))


class AuditHead(db.Model):
    """One row: the chain's last position and hash. Writers lock it to append (no forks)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    entry_hash: Mapped[str] = mapped_column(String(64))

"""The consent aggregate: a person known by verified identifiers, their ledger of grants and withdrawals,
the limits they put on processing (restriction, objection), and the jobs that carry both to other systems."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dsr.domain.consent import ConsentSource, FlagKind
from dsr.extensions import db
from dsr.models.request import DataSubjectRequest
from dsr.models.types import UTCDateTime, enum_column, utcnow
from dsr.models.user import StaffUser, new_public_id


class IdentifierKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"


class DataSubject(db.Model):
    """A person whose consents we record. Only verified identifiers ever point at one."""

    __tablename__ = "data_subject"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Used in staff URLs instead of the sequential primary key.
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    identifiers: Mapped[list[SubjectIdentifier]] = relationship(
        back_populates="subject", order_by="SubjectIdentifier.id", cascade="all, delete-orphan"
    )


class SubjectIdentifier(db.Model):
    """One verified email or phone. Looked up by keyed hash; kept encrypted to reach the person's
    rows in other systems (propagation) and to show staff who the person is."""

    __tablename__ = "subject_identifier"
    __table_args__ = (UniqueConstraint("kind", "digest", name="uq_subject_identifier_kind_digest"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("data_subject.id", ondelete="CASCADE"), index=True)
    subject: Mapped[DataSubject] = relationship(back_populates="identifiers")
    kind: Mapped[IdentifierKind] = mapped_column(enum_column(IdentifierKind))
    # HMAC-SHA256 of the normalised value (lower-cased email; phone digits only).
    digest: Mapped[str] = mapped_column(String(64))
    value_encrypted: Mapped[str] = mapped_column(Text)  # Fernet token of the normalised value
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ConsentEvent(db.Model):
    """One grant or withdrawal. Never updated; the current state is derived (dsr.domain.consent)."""

    __tablename__ = "consent_event"
    __table_args__ = (
        # A replayed unsubscribe click, keyword or request completion finds its first recording.
        UniqueConstraint("subject_id", "topic", "source", "evidence_ref", name="uq_consent_event_evidence"),
        Index("ix_consent_event_subject_topic", "subject_id", "topic", "occurred_at"),
    )

    # BigInteger on servers, INTEGER on SQLite (where only INTEGER PRIMARY KEY autoincrements).
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("data_subject.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(64))  # a consent topic key of the organisation profile
    granted: Mapped[bool]
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())  # when the person did it
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)  # when we learned of it
    source: Mapped[ConsentSource] = mapped_column(enum_column(ConsentSource))
    # The proof's identifier (request reference, the marketing email's Message-ID, the SMS provider's
    # message id); NULL where the channel has none (the preferences page: see request_id).
    evidence_ref: Mapped[str | None] = mapped_column(String(200))
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)  # e.g. {"header": "Sec-GPC: 1"}
    request_id: Mapped[int | None] = mapped_column(ForeignKey("dsr_request.id", ondelete="SET NULL"))
    request: Mapped[DataSubjectRequest | None] = relationship()
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    recorded_by: Mapped[StaffUser | None] = relationship()


class ProcessingFlag(db.Model):
    """A restriction of, or objection to, processing for one purpose; in force until lifted."""

    __tablename__ = "processing_flag"
    __table_args__ = (Index("ix_processing_flag_subject", "subject_id", "lifted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    subject_id: Mapped[int] = mapped_column(ForeignKey("data_subject.id", ondelete="CASCADE"))
    kind: Mapped[FlagKind] = mapped_column(enum_column(FlagKind))
    purpose: Mapped[str] = mapped_column(String(64))  # a purpose key of the organisation profile
    request_id: Mapped[int | None] = mapped_column(ForeignKey("dsr_request.id", ondelete="SET NULL"))
    request: Mapped[DataSubjectRequest | None] = relationship()
    set_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    set_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    set_by: Mapped[StaffUser | None] = relationship(foreign_keys=[set_by_id])
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    lifted_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id", ondelete="SET NULL"))
    lifted_by: Mapped[StaffUser | None] = relationship(foreign_keys=[lifted_by_id])
    lift_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def in_force(self) -> bool:
        return self.lifted_at is None


class PropagationScope(StrEnum):
    CONSENT = "consent"  # key: a consent topic
    RESTRICTION = "restriction"  # key: a purpose (restricted or objected to)


class PropagationStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"  # out of attempts; staff see it on the person's page


class PropagationJob(db.Model):
    """Bring one system in line with a person's current state for one topic or purpose.

    The job writes the state as it is when it runs (not as it was when queued), so a late or
    repeated run can only ever make the system more right.
    """

    __tablename__ = "propagation_job"
    __table_args__ = (
        Index("ix_propagation_job_due", "status", "run_after"),
        Index("ix_propagation_job_subject", "subject_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)  # the webhook job id
    subject_id: Mapped[int] = mapped_column(ForeignKey("data_subject.id", ondelete="CASCADE"))
    subject: Mapped[DataSubject] = relationship()
    system_key: Mapped[str] = mapped_column(String(100))
    scope: Mapped[PropagationScope] = mapped_column(enum_column(PropagationScope))
    key: Mapped[str] = mapped_column(String(64))
    status: Mapped[PropagationStatus] = mapped_column(enum_column(PropagationStatus), default=PropagationStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # What the last successful run wrote ("withdrawn", "restricted"…) and how many rows it changed.
    outcome: Mapped[str | None] = mapped_column(String(32))
    rows_changed: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

"""The editable copy of the legal clock's rules table (seeded from dsr.domain.rules)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Row, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dsr.domain.rules import DeadlineRule as RuleSpec
from dsr.domain.rules import Period, Unit
from dsr.extensions import db
from dsr.models.types import UTCDateTime, enum_column, utcnow


class DeadlineRule(db.Model):
    __tablename__ = "deadline_rule"
    __table_args__ = (UniqueConstraint("jurisdiction", "request_type", name="uq_deadline_rule_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    jurisdiction: Mapped[str] = mapped_column(String(32))
    request_type: Mapped[str] = mapped_column(String(32))
    respond_amount: Mapped[int]
    respond_unit: Mapped[Unit] = mapped_column(enum_column(Unit))
    extension_amount: Mapped[int | None]
    extension_unit: Mapped[Unit | None] = mapped_column(enum_column(Unit))
    pause_allowed: Mapped[bool] = mapped_column(default=False)
    roll_forward: Mapped[bool] = mapped_column(default=False)
    acknowledge_amount: Mapped[int | None]
    acknowledge_unit: Mapped[Unit | None] = mapped_column(enum_column(Unit))
    extension_notice_required: Mapped[bool] = mapped_column(default=True)
    holiday_calendar: Mapped[str] = mapped_column(String(16), default="")
    reference: Mapped[str] = mapped_column(String(200), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    def to_spec(self) -> RuleSpec:
        return rule_spec(self)

    @classmethod
    def from_spec(cls, spec: RuleSpec) -> DeadlineRule:
        row = cls(jurisdiction=spec.jurisdiction, request_type=spec.request_type)
        row.apply(spec)
        return row

    def apply(self, spec: RuleSpec) -> None:
        """Copy every editable field of a rule spec onto this row."""
        self.respond_amount, self.respond_unit = spec.respond_within.amount, spec.respond_within.unit
        self.extension_amount = spec.extension.amount if spec.extension else None
        self.extension_unit = spec.extension.unit if spec.extension else None
        self.acknowledge_amount = spec.acknowledge_within.amount if spec.acknowledge_within else None
        self.acknowledge_unit = spec.acknowledge_within.unit if spec.acknowledge_within else None
        self.pause_allowed = spec.pause_allowed
        self.roll_forward = spec.roll_forward
        self.extension_notice_required = spec.extension_notice_required
        self.holiday_calendar = spec.holiday_calendar
        self.reference = spec.reference
        self.notes = spec.notes


def rule_spec(row: DeadlineRule | Row) -> RuleSpec:
    """The rule a row holds: a DeadlineRule, or a row selected with its columns."""

    def period(amount: int | None, unit: Unit | None) -> Period | None:
        return Period(amount, unit) if amount and unit else None

    return RuleSpec(
        jurisdiction=row.jurisdiction,
        request_type=row.request_type,
        respond_within=Period(row.respond_amount, row.respond_unit),
        extension=period(row.extension_amount, row.extension_unit),
        pause_allowed=row.pause_allowed,
        roll_forward=row.roll_forward,
        acknowledge_within=period(row.acknowledge_amount, row.acknowledge_unit),
        extension_notice_required=row.extension_notice_required,
        holiday_calendar=row.holiday_calendar,
        reference=row.reference,
        notes=row.notes,
    )

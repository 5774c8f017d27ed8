"""The legal clock's rules table: how long each jurisdiction allows, per request type.

These are the seeded defaults; the database holds the editable copy (one row per
jurisdiction and request type, "*" meaning any type).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from dsr.domain.errors import DomainError

ANY_TYPE = "*"
DEFAULT_JURISDICTION = "default"  # its ANY_TYPE rule applies where no other rule does


class Unit(StrEnum):
    DAYS = "days"
    BUSINESS_DAYS = "business_days"
    MONTHS = "months"


@dataclass(frozen=True)
class Period:
    amount: int
    unit: Unit

    def __str__(self) -> str:
        singular = {"days": "day", "business_days": "business day", "months": "month"}[self.unit]
        plural = self.unit.value.replace("_", " ")
        return f"{self.amount} {singular if self.amount == 1 else plural}"

    @classmethod
    def parse(cls, text: str) -> Period:
        """Read "1 month", "45 days" or "10 business days" as typed by an admin."""
        match = re.fullmatch(r"\s*(\d{1,3})\s+(business\s+days?|days?|months?)\s*", text.lower())
        if not match:
            raise DomainError(f"{text!r} is not a period like '30 days', '10 business days' or '1 month'.")
        word = re.sub(r"\s+", "_", match.group(2))
        unit = {"day": "days", "business_day": "business_days", "month": "months"}.get(word, word)
        amount = int(match.group(1))
        if amount < 1:
            raise DomainError("A period must be at least 1.")
        return cls(amount, Unit(unit))


@dataclass(frozen=True)
class DeadlineRule:
    jurisdiction: str
    request_type: str  # a RequestType value, or ANY_TYPE
    respond_within: Period
    extension: Period | None = None
    pause_allowed: bool = False
    # When the due date falls on a weekend or holiday it moves to the next working day.
    roll_forward: bool = False
    acknowledge_within: Period | None = None
    # The requester must be told of an extension, with reasons, before the original due date.
    extension_notice_required: bool = True
    holiday_calendar: str = ""
    reference: str = ""
    notes: str = ""


def _gdpr(jurisdiction: str, calendar: str, reference: str, pause: bool, notes: str) -> DeadlineRule:
    return DeadlineRule(
        jurisdiction,
        ANY_TYPE,
        Period(1, Unit.MONTHS),
        Period(2, Unit.MONTHS),
        pause_allowed=pause,
        roll_forward=True,
        holiday_calendar=calendar,
        reference=reference,
        notes=notes,
    )


DEFAULT_RULES: tuple[DeadlineRule, ...] = (
    _gdpr(
        "eu_gdpr",
        "XECB",
        "GDPR Art. 12(3)-(4)",
        False,
        "One calendar month from receipt; +2 months with reasons given inside the first month. "
        "A refusal is due in the same month, with the right to complain.",
    ),
    _gdpr(
        "uk_gdpr",
        "GB-ENG",
        "UK GDPR Art. 12(3), 12A",
        True,
        "As EU GDPR; the clock stops while waiting for identity documents or clarification.",
    ),
    DeadlineRule(
        "us_ca_ccpa",
        ANY_TYPE,
        Period(45, Unit.DAYS),
        Period(45, Unit.DAYS),
        acknowledge_within=Period(10, Unit.BUSINESS_DAYS),
        holiday_calendar="US-CA",
        reference="11 CCR §7021",
        notes="45 calendar days from receipt, verification time included; confirm receipt within "
        "10 business days; keep records 24 months (§7101).",
    ),
    DeadlineRule(
        "us_ca_ccpa",
        "consent_withdrawal",
        Period(15, Unit.BUSINESS_DAYS),
        None,
        holiday_calendar="US-CA",
        reference="11 CCR §7026(f), §7025",
        notes="Opt-out of sale/sharing: 15 business days, no verification; honour Global Privacy Control.",
    ),
    DeadlineRule(
        "us_ca_ccpa",
        "restriction",
        Period(15, Unit.BUSINESS_DAYS),
        None,
        holiday_calendar="US-CA",
        reference="11 CCR §7027(g)",
        notes="Request to limit use of sensitive personal information: 15 business days.",
    ),
    DeadlineRule(
        "in_dpdp",
        ANY_TYPE,
        Period(90, Unit.DAYS),
        None,
        holiday_calendar="IN",
        reference="DPDP Act 2023 s.13; DPDP Rules 2025 r.14(3)",
        notes="Grievances answered within 90 days; no extension.",
    ),
    DeadlineRule(
        "br_lgpd",
        ANY_TYPE,
        Period(15, Unit.DAYS),
        None,
        holiday_calendar="BR",
        reference="LGPD Art. 19(II)",
        notes="Complete answer within 15 days of the request, free of charge.",
    ),
    DeadlineRule(
        "default",
        ANY_TYPE,
        Period(30, Unit.DAYS),
        Period(30, Unit.DAYS),
        pause_allowed=True,
        reference="Organisation policy",
        notes="Used where no law sets a deadline.",
    ),
)


def find_rule(
    rules: list[DeadlineRule] | tuple[DeadlineRule, ...], jurisdiction: str, request_type: str
) -> DeadlineRule:
    """The most specific rule: (jurisdiction, type), then (jurisdiction, *), then (default, *)."""
    by_key = {(rule.jurisdiction, rule.request_type): rule for rule in rules}
    for key in ((jurisdiction, request_type), (jurisdiction, ANY_TYPE), (DEFAULT_JURISDICTION, ANY_TYPE)):
        if key in by_key:
            return by_key[key]
    raise DomainError(f"No deadline rule covers {jurisdiction} / {request_type}, and there is no default rule.")

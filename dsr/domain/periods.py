"""Retention periods written the way people write them: '30 days', '12 months', '8 years'."""

from __future__ import annotations

import re
from dataclasses import dataclass

UNITS = ("days", "months", "years")
_PERIOD = re.compile(r"^\s*(\d+)\s*(day|days|month|months|year|years)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class RetentionPeriod:
    amount: int
    unit: str  # one of UNITS

    def __str__(self) -> str:
        return f"{self.amount} {self.unit if self.amount != 1 else self.unit[:-1]}"


def parse_period(text: object) -> RetentionPeriod:
    """Raises ValueError with a message that says what a period looks like."""
    match = _PERIOD.match(text) if isinstance(text, str) else None
    if match is None or int(match.group(1)) <= 0:
        raise ValueError(f"must be a period such as '30 days', '12 months' or '8 years' (got {text!r})")
    unit = match.group(2).lower()
    return RetentionPeriod(int(match.group(1)), unit if unit.endswith("s") else unit + "s")

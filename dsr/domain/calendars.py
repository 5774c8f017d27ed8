"""Working days per jurisdiction: weekends plus public holidays from the `holidays` package.

A calendar is named by a short spec so an admin can edit it in the rules table:
"" (weekends only), a country ("IN", "BR"), a country and subdivision ("GB-ENG", "US-CA"),
or a financial-market calendar ("XECB": the TARGET closing days shared across the EU).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays

from dsr.domain.errors import DomainError

WEEKEND = frozenset({5, 6})  # Saturday, Sunday


class WorkingCalendar:
    def __init__(self, spec: str = "") -> None:
        self.spec = spec
        self._holidays = _holidays_for(spec)

    def holiday_name(self, day: date) -> str | None:
        return self._holidays.get(day) if self._holidays is not None else None

    def is_working_day(self, day: date) -> bool:
        return day.weekday() not in WEEKEND and self.holiday_name(day) is None

    def next_working_day(self, day: date) -> date:
        """The day itself when it is a working day, else the first working day after it."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def previous_working_day(self, day: date) -> date:
        """The day itself when it is a working day, else the last working day before it."""
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def add_business_days(self, start: date, count: int) -> date:
        """The count-th working day after start (start itself is not counted)."""
        day = start
        while count > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count -= 1
        return day


def _holidays_for(spec: str) -> holidays.HolidayBase | None:
    if not spec:
        return None
    financial = holidays.list_supported_financial()
    try:
        if spec in financial:
            return holidays.financial_holidays(spec)
        country, _, subdiv = spec.partition("-")
        return holidays.country_holidays(country, subdiv=subdiv or None)
    except (NotImplementedError, KeyError) as exc:
        raise DomainError(f"Unknown holiday calendar {spec!r}: {exc}") from None


@lru_cache(maxsize=64)
def calendar_for(spec: str) -> WorkingCalendar:
    """A shared calendar per spec; the holidays object fills in years as they are asked for."""
    return WorkingCalendar(spec)

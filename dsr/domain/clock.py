"""The legal clock: due dates from receipt, in the organisation's time zone.

Periods count from the local date of receipt (the day of receipt itself is not counted):
months go to the same date in the target month, or its last day when that date does not
exist (31 January + 1 month = 28/29 February); business days skip weekends and the
jurisdiction's public holidays. Paused days push the due date back day for day. One
extension is allowed where the rule has one, before the original due date has passed.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dsr.domain.calendars import WorkingCalendar, calendar_for
from dsr.domain.errors import ClockError
from dsr.domain.rules import DeadlineRule, Period, Unit


@dataclass(frozen=True)
class Pause:
    started_at: datetime
    ended_at: datetime | None = None


@dataclass(frozen=True)
class Deadline:
    received_on: date
    due: date
    # The due date the request would have without its extension (the extension-notice limit).
    unextended_due: date
    extended: bool
    paused: bool
    paused_days: int
    acknowledge_by: date | None
    extension_available: bool
    extension_allowed: bool = True  # the rule has an extension at all (it may no longer be available)

    def days_left(self, today: date) -> int:
        return (self.due - today).days


def add_months(day: date, months: int) -> date:
    """Same date `months` later, clamped to the end of a shorter month."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_period(start: date, period: Period, working: WorkingCalendar) -> date:
    if period.unit is Unit.MONTHS:
        return add_months(start, period.amount)
    if period.unit is Unit.BUSINESS_DAYS:
        return working.add_business_days(start, period.amount)
    return start + timedelta(days=period.amount)


class LegalClock:
    """Computes deadlines for one organisation (its time zone) from the rules table."""

    def __init__(self, timezone: str | ZoneInfo) -> None:
        self.tz = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)

    def local_date(self, moment: datetime) -> date:
        if moment.tzinfo is None:
            raise ValueError("The legal clock needs timezone-aware datetimes.")
        return moment.astimezone(self.tz).date()

    def paused_days(self, pauses: tuple[Pause, ...] | list[Pause], now: datetime) -> int:
        """Whole local days spent paused; an open pause counts up to now."""
        return sum((self.local_date(p.ended_at or now) - self.local_date(p.started_at)).days for p in pauses)

    def deadline(
        self,
        rule: DeadlineRule,
        received_at: datetime,
        now: datetime,
        pauses: tuple[Pause, ...] | list[Pause] = (),
        extended: bool = False,
    ) -> Deadline:
        if extended and rule.extension is None:
            raise ClockError("This jurisdiction allows no extension.")
        working = calendar_for(rule.holiday_calendar)
        received_on = self.local_date(received_at)
        paused_days = self.paused_days(pauses, now)
        unextended = self._due(rule, received_on, paused_days, extended=False, working=working)
        due = self._due(rule, received_on, paused_days, extended=True, working=working) if extended else unextended
        today = self.local_date(now)
        return Deadline(
            received_on=received_on,
            due=due,
            unextended_due=unextended,
            extended=extended,
            paused=any(p.ended_at is None for p in pauses),
            paused_days=paused_days,
            acknowledge_by=(
                add_period(received_on, rule.acknowledge_within, working) if rule.acknowledge_within else None
            ),
            extension_available=(
                rule.extension is not None
                and not extended
                and (not rule.extension_notice_required or today <= unextended)
            ),
            extension_allowed=rule.extension is not None,
        )

    @staticmethod
    def _due(rule: DeadlineRule, received_on: date, paused_days: int, extended: bool, working: WorkingCalendar) -> date:
        respond, extension = rule.respond_within, rule.extension
        if extended and extension is not None and extension.unit == respond.unit:
            # Same unit: count the whole span from receipt (1 + 2 months from 31 Jan is 30 April).
            due = add_period(received_on, Period(respond.amount + extension.amount, respond.unit), working)
        else:
            due = add_period(received_on, respond, working)
            if extended and extension is not None:
                due = add_period(due, extension, working)
        due += timedelta(days=paused_days)
        return working.next_working_day(due) if rule.roll_forward else due

    def check_extension(self, rule: DeadlineRule, deadline: Deadline, now: datetime) -> None:
        """Raise ClockError unless an extension may be taken now."""
        if rule.extension is None:
            raise ClockError("This jurisdiction allows no extension.")
        if deadline.extended:
            raise ClockError("This request has already been extended once.")
        if rule.extension_notice_required and self.local_date(now) > deadline.unextended_due:
            raise ClockError(f"The extension notice had to reach the requester by {deadline.unextended_due:%d %B %Y}.")

    @staticmethod
    def check_pause(rule: DeadlineRule, pauses: tuple[Pause, ...] | list[Pause]) -> None:
        if not rule.pause_allowed:
            raise ClockError("This jurisdiction does not allow the clock to stop.")
        if any(p.ended_at is None for p in pauses):
            raise ClockError("The clock is already paused.")

    @staticmethod
    def check_resume(pauses: tuple[Pause, ...] | list[Pause]) -> None:
        if not any(p.ended_at is None for p in pauses):
            raise ClockError("The clock is not paused.")

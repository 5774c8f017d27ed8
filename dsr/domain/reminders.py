"""When staff reminders go out, and the key that makes each one go out once. Pure: no Flask, no SQL.

A reminder belongs to a local day of the organisation's time zone and goes out from the send time
on that day. "N days before" counts calendar days back from the current due date; a reminder that
would land on a weekend or a holiday of the staff's working calendar goes out on the working day
before, and two reminders landing on the same day become one (the more urgent). A sweep sends only
the most recent reminder whose moment has come, so a scheduler that was down sends one late
reminder, never a burst of stale ones.

Nothing is scheduled ahead of time: every sweep reads the request's due date as it is now. An
extension or a pause moves the due date, so the old schedule is simply never looked at again, and
the keys below carry the due date, so the new schedule's reminders are new keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dsr.domain.calendars import WorkingCalendar

# Enough days to step back over a long weekend and a run of holidays (Christmas to New Year).
NON_WORKING_SLACK = 7
# A missed acknowledgement is escalated once; a scheduler down longer than this has missed it.
ACK_MISSED_LOOKBACK = 7

OVERDUE = "overdue"
ACK_MISSED = "ack-missed"
EXTENSION = "extension"
DIGEST = "digest"


def due_kind(days_before: int) -> str:
    return f"due-{days_before}"


def ack_kind(days_before: int) -> str:
    return f"ack-{days_before}"


@dataclass(frozen=True)
class ReminderKey:
    """One reminder to one staff member: (kind, request, the date it is about, recipient[, day]).

    Stored under a unique index in the same transaction as the outbox message it causes, so a
    second scheduler (or a rerun after a crash) that builds the same key cannot send it again.
    `on_day` is set for reminders that repeat for the same date (the daily overdue escalation,
    the daily digest).
    """

    kind: str
    recipient_id: int
    request_id: int | None = None
    about: date | None = None
    on_day: date | None = None

    @property
    def text(self) -> str:
        parts = [self.kind, f"u{self.recipient_id}"]
        if self.request_id is not None:
            parts.append(f"r{self.request_id}")
        if self.about is not None:
            parts.append(self.about.isoformat())
        if self.on_day is not None:
            parts.append(f"on {self.on_day.isoformat()}")
        return "|".join(parts)


@dataclass(frozen=True)
class ReminderSchedule:
    """Reminders N days before a date, at a local time, on staff working days."""

    days_before: tuple[int, ...]
    send_at: time
    timezone: ZoneInfo
    working: WorkingCalendar

    def local_now(self, now: datetime) -> datetime:
        if now.tzinfo is None:
            raise ValueError("Reminders need timezone-aware datetimes.")
        return now.astimezone(self.timezone)

    def today(self, now: datetime) -> date:
        """The local day whose reminders may go out: today from the send time on, else yesterday."""
        local = self.local_now(now)
        return local.date() if local.time() >= self.send_at else local.date() - timedelta(days=1)

    def send_days(self, target: date) -> dict[int, date]:
        """Days before `target` -> the working day that reminder goes out (shared days merged)."""
        days: dict[int, date] = {}
        for before in sorted(set(self.days_before)):  # most urgent first: it keeps a shared day
            day = self.working.previous_working_day(target - timedelta(days=before))
            if day not in days.values():
                days[before] = day
        return days

    def stage(self, target: date, today: date) -> int | None:
        """The reminder (as days before) that should have gone out by `today`; None before the first
        one and after the target date (overdue is escalated, not reminded)."""
        if today > target:
            return None
        reached = [before for before, day in self.send_days(target).items() if day <= today]
        return min(reached) if reached else None

    def window(self, today: date) -> tuple[date, date]:
        """The target dates a sweep on `today` has to look at (an indexed range, never a scan)."""
        return today, today + timedelta(days=max(self.days_before, default=0) + NON_WORKING_SLACK)


def parse_days(text: str) -> tuple[int, ...]:
    """ "7,3,1,0" -> (7, 3, 1, 0); ValueError on anything else."""
    days = tuple(sorted({int(part) for part in text.replace(" ", "").split(",") if part}, reverse=True))
    if not days or any(day < 0 or day > 60 for day in days):
        raise ValueError(f"{text!r} is not a list of days like '7,3,1,0' (0 to 60).")
    return days


def parse_time(text: str) -> time:
    """ "09:00" -> 09:00; ValueError on anything else."""
    try:
        hours, minutes = (int(part) for part in text.strip().split(":"))
        return time(hours, minutes)
    except (TypeError, ValueError):
        raise ValueError(f"{text!r} is not a time like '09:00'.") from None

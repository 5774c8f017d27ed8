"""Arithmetic the reports need, kept free of any database: calendars, UTC offsets, percentiles."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


def utc_offsets(tz: ZoneInfo, start: datetime, end: datetime) -> list[tuple[datetime, int]]:
    """The zone's UTC offset (seconds) from `start`, then at each change before `end`: [(from, offset)].

    Lets a query turn stored UTC instants into local dates with a short CASE, on any database.
    """
    periods = [(start, _offset(tz, start))]
    day = start
    while day < end:
        following = min(day + timedelta(days=1), end)
        if _offset(tz, following) != periods[-1][1]:
            low, high = day, following  # the change lies in (low, high]: narrow it to the second
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                low, high = (middle, high) if _offset(tz, middle) == periods[-1][1] else (low, middle)
            periods.append((high.replace(microsecond=0), _offset(tz, high)))
        day = following
    return periods


def _offset(tz: ZoneInfo, moment: datetime) -> int:
    return int(moment.astimezone(tz).utcoffset().total_seconds())


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant the day starts in that zone."""
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def week_starts(start: date, end: date) -> list[date]:
    """The Mondays of the weeks that overlap start..end (inclusive)."""
    monday = start - timedelta(days=start.weekday())
    return [monday + timedelta(weeks=n) for n in range((end - monday).days // 7 + 1)]


def month_starts(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def median(histogram: Mapping[int, int]) -> float | None:
    """The median of values given as {value: how many}; the mean of the middle two when the count is even."""
    total = sum(histogram.values())
    if not total:
        return None
    lower, upper = _ranked(histogram, (total + 1) // 2), _ranked(histogram, total // 2 + 1)
    return (lower + upper) / 2


def percentile(histogram: Mapping[int, int], share: float) -> int | None:
    """Nearest rank: the smallest value that `share` (0.9 for the 90th percentile) of the values do not exceed."""
    total = sum(histogram.values())
    if not total:
        return None
    return _ranked(histogram, max(1, math.ceil(share * total)))


def _ranked(histogram: Mapping[int, int], rank: int) -> int:
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen >= rank:
            return value
    raise ValueError("rank beyond the number of values")

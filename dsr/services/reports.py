"""The figures on Admin → Reports, each one grouped by the database, never by a loop over requests.

Ranges are local calendar dates (start and end inclusive) in the organisation's time zone.
"Closed" means completed or rejected: both are the organisation's answer. Withdrawn and expired
requests got none, so they count in neither the on-time rate nor the days to close.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, select, true
from sqlalchemy.orm import Session

from dsr.domain.lifecycle import Status
from dsr.domain.reporting import local_midnight, median, month_starts, percentile, utc_offsets, week_starts
from dsr.domain.requests import RequestType
from dsr.models import DataSubjectRequest
from dsr.services.report_sql import days_between, local_date

R = DataSubjectRequest
ANSWERED = (Status.COMPLETED, Status.REJECTED)
# Days to close reach back this far before a range for when requests were received.
RECEIVED_LOOKBACK = timedelta(days=3 * 366)


@dataclass(frozen=True)
class Window:
    """A range of local dates and the UTC instants that bound it."""

    start: date
    end: date  # inclusive
    tz: ZoneInfo

    @property
    def since(self):
        return local_midnight(self.start, self.tz)

    @property
    def until(self):
        return local_midnight(self.end + timedelta(days=1), self.tz)

    def offsets(self, lookback: timedelta = timedelta(0)):
        return utc_offsets(self.tz, self.since - lookback, self.until)


@dataclass(frozen=True)
class WeekCounts:
    week_start: date
    by_type: dict[RequestType, int]

    @property
    def total(self) -> int:
        return sum(self.by_type.values())


@dataclass(frozen=True)
class MonthRate:
    month: date
    closed: int
    on_time: int

    @property
    def rate(self) -> float | None:
        return self.on_time / self.closed if self.closed else None


@dataclass(frozen=True)
class Spread:
    """How long requests took to close, in calendar days."""

    key: str
    closed: int
    median: float | None
    p90: int | None


def received_per_week(session: Session, window: Window) -> list[WeekCounts]:
    day = local_date(R.received_at, window.offsets()).label("day")
    inner = (
        select(day, R.request_type.label("kind"))
        .where(R.received_at >= window.since, R.received_at < window.until)  # ix_dsr_request_received
        .subquery()
    )
    rows = session.execute(select(inner.c.day, inner.c.kind, func.count()).group_by(inner.c.day, inner.c.kind))
    weeks = {monday: Counter() for monday in week_starts(window.start, window.end)}
    for received_on, kind, count in rows:
        weeks[received_on - timedelta(days=received_on.weekday())][RequestType(kind)] += count
    return [WeekCounts(monday, dict(counts)) for monday, counts in weeks.items()]


def _closed_in(window: Window) -> ColumnElement[bool]:
    return and_(R.status.in_(ANSWERED), R.closed_at >= window.since, R.closed_at < window.until)


def on_time_per_month(session: Session, window: Window) -> list[MonthRate]:
    """Requests closed each month, and how many of them on or before their due date (local dates)."""
    closed_on = local_date(R.closed_at, window.offsets())
    inner = (
        select(closed_on.label("day"), case((closed_on <= R.due_on, 1), else_=0).label("on_time"))
        .where(_closed_in(window), R.due_on.is_not(None))
        .subquery()
    )
    rows = session.execute(select(inner.c.day, inner.c.on_time, func.count()).group_by(inner.c.day, inner.c.on_time))
    closed, on_time = Counter(), Counter()
    for day, in_time, count in rows:
        closed[day.replace(day=1)] += count
        on_time[day.replace(day=1)] += count if in_time else 0
    return [MonthRate(month, closed[month], on_time[month]) for month in month_starts(window.start, window.end)]


def days_to_close(session: Session, window: Window) -> tuple[list[Spread], list[Spread]]:
    """Median and 90th percentile of days from receipt to answer, per request type and per jurisdiction.

    The database returns how many requests took each number of days, per type and jurisdiction (a few
    hundred rows whatever the volume); the percentiles come from those counts.
    """
    offsets = window.offsets(RECEIVED_LOOKBACK)
    took = days_between(local_date(R.closed_at, offsets), local_date(R.received_at, offsets))
    inner = (
        select(R.request_type.label("kind"), R.jurisdiction.label("jurisdiction"), took.label("days"))
        .where(_closed_in(window))
        .subquery()
    )
    rows = session.execute(
        select(inner.c.kind, inner.c.jurisdiction, inner.c.days, func.count()).group_by(
            inner.c.kind, inner.c.jurisdiction, inner.c.days
        )
    )
    by_type: dict[str, Counter] = defaultdict(Counter)
    by_jurisdiction: dict[str, Counter] = defaultdict(Counter)
    for kind, jurisdiction, days, count in rows:
        by_type[str(kind)][days] += count
        by_jurisdiction[jurisdiction][days] += count
    return _spreads(by_type), _spreads(by_jurisdiction)


def _spreads(histograms: dict[str, Counter]) -> list[Spread]:
    return [Spread(key, sum(h.values()), median(h), percentile(h, 0.9)) for key, h in sorted(histograms.items())]


@dataclass(frozen=True)
class Overdue:
    requests: list[DataSubjectRequest]
    total: int


def overdue(session: Session, today: date, limit: int = 100) -> Overdue:
    """Open requests past their due date, the longest overdue first (ix_dsr_request_open_due)."""
    late = and_(R.is_open == true(), R.due_on < today)
    total = session.scalar(select(func.count()).where(late)) or 0
    rows = session.scalars(select(R).where(late).order_by(R.due_on, R.id).limit(limit)).all()
    return Overdue(list(rows), total)

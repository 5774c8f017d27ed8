"""SQL the reports share: local dates and day counts that each database spells its own way.

Timestamps are stored in UTC. A local date is the UTC instant shifted by the organisation's UTC
offset at that instant (a short CASE over the offset changes in the range, from
dsr.domain.reporting.utc_offsets), then cut to a date: exact across daylight-saving changes, and
the same on SQLite, PostgreSQL and MariaDB, none of which needs its time-zone tables loaded.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Date, Integer, case, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from dsr.models.types import UTCDateTime


class _ShiftedDate(FunctionElement):
    """DATE(timestamp + seconds)."""

    type = Date()
    inherit_cache = True
    name = "shifted_date"


@compiles(_ShiftedDate)
def _shifted_sqlite(element, compiler, **kw):
    moment, seconds = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"date({moment}, ({seconds}) || ' seconds')"


@compiles(_ShiftedDate, "postgresql")
def _shifted_postgresql(element, compiler, **kw):
    moment, seconds = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST({moment} + make_interval(secs => {seconds}) AS DATE)"


@compiles(_ShiftedDate, "mysql")
@compiles(_ShiftedDate, "mariadb")
def _shifted_mysql(element, compiler, **kw):
    moment, seconds = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"DATE(TIMESTAMPADD(SECOND, {seconds}, {moment}))"


class _DaysBetween(FunctionElement):
    """Whole days from the second date to the first."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(_DaysBetween)
def _days_sqlite(element, compiler, **kw):
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


@compiles(_DaysBetween, "postgresql")
def _days_postgresql(element, compiler, **kw):
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"({later} - {earlier})"


@compiles(_DaysBetween, "mysql")
@compiles(_DaysBetween, "mariadb")
def _days_mysql(element, compiler, **kw):
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"DATEDIFF({later}, {earlier})"


def local_date(column: ColumnElement, offsets: list[tuple[datetime, int]]) -> ColumnElement:
    """The organisation's calendar date of a UTC timestamp column."""
    if len(offsets) == 1:
        seconds = literal(offsets[0][1], Integer())
    else:
        latest_first = [(column >= literal(start, UTCDateTime()), offset) for start, offset in reversed(offsets[1:])]
        seconds = case(*latest_first, else_=offsets[0][1])
    return _ShiftedDate(column, seconds)


def days_between(later: ColumnElement, earlier: ColumnElement) -> ColumnElement:
    return _DaysBetween(later, earlier)

"""Admin → Reports: the service figures turned into charts (labels, colours, descriptions)."""

from __future__ import annotations

from datetime import date

from dsr.domain.lifecycle import Status
from dsr.domain.requests import RequestType, jurisdiction_label
from dsr.services.queue import OpenCounts
from dsr.services.reports import MonthRate, Spread, WeekCounts
from dsr.web.admin.charts import Chart, Series, bar_chart, column_chart

# Dark enough for 3:1 against white, and told apart by the key and the tables as well as by colour.
TYPE_COLOURS = {
    RequestType.ACCESS: "#1f5fa8",
    RequestType.PORTABILITY: "#6a3d9a",
    RequestType.CORRECTION: "#117733",
    RequestType.DELETION: "#b42318",
    RequestType.CONSENT_WITHDRAWAL: "#a65e00",
    RequestType.RESTRICTION: "#4d4d4d",
    RequestType.OBJECTION: "#aa3377",
}
TYPE_NAMES = {
    RequestType.ACCESS: "Access",
    RequestType.PORTABILITY: "Portability",
    RequestType.CORRECTION: "Correction",
    RequestType.DELETION: "Deletion",
    RequestType.CONSENT_WITHDRAWAL: "Consent withdrawal",
    RequestType.RESTRICTION: "Restriction",
    RequestType.OBJECTION: "Objection",
}
MEDIAN, P90 = Series("median", "Median", "#1f5fa8"), Series("p90", "90th percentile", "#a65e00")


def short_day(day: date) -> str:
    return f"{day.day} {day:%b}"


jurisdiction_name = jurisdiction_label  # the charts name jurisdictions as every page does


def weekly_chart(weeks: list[WeekCounts]) -> Chart:
    series = [Series(t.value, TYPE_NAMES[t], TYPE_COLOURS[t]) for t in RequestType]
    total = sum(w.total for w in weeks)
    chart = Chart(
        "weekly",
        "Requests received per week, by type",
        f"{total} requests received in {len(weeks)} weeks, stacked by request type; the table below has every figure.",
        "Week starting (Monday)",
        "Requests",
    )
    values = {s.key: [w.by_type.get(RequestType(s.key), 0) for w in weeks] for s in series}
    return column_chart(chart, [short_day(w.week_start) for w in weeks], series, values, show_totals=len(weeks) <= 26)


def status_chart(counts: OpenCounts) -> Chart:
    statuses = list(counts.by_status)
    chart = Chart(
        "open-status",
        "Open requests by status",
        f"{sum(counts.by_status.values())} open requests now, {counts.overdue} of them overdue.",
        "Requests",
        "Status",
    )
    values = {"open": [counts.by_status[s] for s in statuses]}
    return bar_chart(chart, [Status(s).label for s in statuses], [Series("open", "Open", "#1f5fa8")], values)


def on_time_chart(months: list[MonthRate]) -> Chart:
    answered = [m for m in months if m.closed]
    described = (
        ", ".join(f"{m.month:%B %Y} {round(m.rate * 100)}%" for m in answered) if answered else "no request was closed"
    )
    chart = Chart(
        "on-time",
        "Requests closed on or before their due date, per month",
        f"Share closed on time: {described}.",
        "Month closed",
        "Closed on time (%)",
    )
    rates = [None if m.rate is None else round(m.rate * 100, 1) for m in months]
    labels = [f"{m.month:%b %Y}" for m in months]
    return column_chart(
        chart, labels, [Series("rate", "on time", "#117733")], {"rate": rates}, top=100, unit="%", show_totals=True
    )


def spread_chart(chart_id: str, what: str, spreads: list[Spread], name) -> Chart:
    chart = Chart(
        chart_id,
        f"Days to close per {what}: median and 90th percentile",
        "; ".join(f"{name(s.key)}: median {s.median:g}, 90th percentile {s.p90} days" for s in spreads)
        or "No request was closed in this range.",
        "Calendar days from receipt to answer",
        what.capitalize(),
    )
    values = {"median": [s.median for s in spreads], "p90": [s.p90 for s in spreads]}
    return bar_chart(chart, [name(s.key) for s in spreads], [MEDIAN, P90], values)


def type_name(key: str) -> str:
    return TYPE_NAMES.get(RequestType(key), key)

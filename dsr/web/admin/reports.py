"""Admin → Reports: charts of the request register for a date range, overdue requests, CCPA metrics.

Admins only, as DESIGN.md has it (staff work the queue; reports and the audit log are for those who
answer for the organisation). The figures cover every request, confidential ones included, and the
overdue list names them, so the page sits behind the admin role like the rest of /admin.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from flask import Response, render_template, request
from sqlalchemy import func, select

from dsr.domain.consent import gpc_topics
from dsr.extensions import db
from dsr.models import DataSubjectRequest
from dsr.services import ccpa_metrics, reports
from dsr.services.audit import record_event
from dsr.services.queue import open_counts
from dsr.web.admin import report_charts as charts
from dsr.web.admin.views import bp
from dsr.web.sessions import clock, current_actor, now, organisation

LONGEST = timedelta(days=3 * 366)


def _window(today: date) -> tuple[reports.Window, str]:
    """The range asked for (default: the last 26 weeks), and a note when it had to be corrected."""
    start, end = _day(request.args.get("from")), _day(request.args.get("until"))
    end = min(end or today, today)
    start = start or (end - timedelta(days=end.weekday(), weeks=25))
    note = ""
    if start > end:
        start, note = end, "The range started after it ended; it now covers one day."
    if end - start > LONGEST:
        start, note = end - LONGEST, "Reports cover at most three years; the range was shortened."
    return reports.Window(start, end, clock().tz), note


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@bp.route("/reports")
def reports_page():
    today = clock().local_date(now())
    window, note = _window(today)
    weeks = reports.received_per_week(db.session, window)
    months = reports.on_time_per_month(db.session, window)
    by_type, by_jurisdiction = reports.days_to_close(db.session, window)
    counts = open_counts(db.session, today)
    year = request.args.get("year", type=int) or today.year - 1
    metrics = _metrics(year)
    return render_template(
        "admin/reports.html",
        window=window,
        note=note,
        today=today,
        presets=_presets(today),
        weeks=weeks,
        weekly=charts.weekly_chart(weeks),
        counts=counts,
        status_chart=charts.status_chart(counts),
        months=months,
        on_time=charts.on_time_chart(months),
        by_type=by_type,
        by_jurisdiction=by_jurisdiction,
        type_chart=charts.spread_chart("days-type", "request type", by_type, charts.type_name),
        jurisdiction_chart=charts.spread_chart(
            "days-jurisdiction", "jurisdiction", by_jurisdiction, charts.jurisdiction_name
        ),
        overdue=reports.overdue(db.session, today),
        type_name=charts.type_name,
        jurisdiction_name=charts.jurisdiction_name,
        year=year,
        years=_years(today),
        metrics=metrics,
    )


@bp.route("/reports/ccpa-metrics.csv")
def ccpa_csv():
    """The year's §7102 metrics as CSV; the download is recorded."""
    year = request.args.get("year", type=int) or clock().local_date(now()).year - 1
    metrics = _metrics(year)
    record_event(db.session, current_actor(), "reports.exported", now(), report="ccpa_7102", year=year)
    db.session.commit()
    buffer = io.StringIO()
    csv.writer(buffer).writerows(ccpa_metrics.csv_lines(metrics))
    return Response(
        buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="ccpa-request-metrics-{year}.csv"'},
    )


def _metrics(year: int) -> list[ccpa_metrics.KindMetrics]:
    topics = frozenset(t.key for t in gpc_topics(organisation()))
    return ccpa_metrics.annual_metrics(db.session, year, clock().tz, topics)


def _years(today: date) -> list[int]:
    """This year back to the first request's (at most ten), and always last year: the page's default."""
    first = db.session.scalar(select(func.min(DataSubjectRequest.received_at)))
    since = min(clock().local_date(first).year if first else today.year, today.year - 1)
    return list(range(today.year, max(since, today.year - 10) - 1, -1))


def _presets(today: date) -> list[tuple[str, dict]]:
    monday = today - timedelta(days=today.weekday())
    return [
        ("Last 4 weeks", {"from": (monday - timedelta(weeks=3)).isoformat()}),
        ("Last 26 weeks", {}),
        ("Last 12 months", {"from": (today.replace(day=1) - timedelta(days=335)).replace(day=1).isoformat()}),
        ("This year", {"from": date(today.year, 1, 1).isoformat()}),
        (
            "Last year",
            {"from": date(today.year - 1, 1, 1).isoformat(), "until": date(today.year - 1, 12, 31).isoformat()},
        ),
    ]

"""Admin → Reports: server-drawn SVG charts with titles, descriptions, axes and data tables; overdue links."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from dsr.domain.lifecycle import Status
from dsr.domain.requests import RequestType
from tests.services.report_fixtures import seed

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # admin_user sets the clock here: Monday 23 November, local


def test_charts_are_accessible_svg_with_their_figures_in_tables(admin_client, session):
    seed(session, RequestType.ACCESS, datetime(2026, 11, 17, 6, tzinfo=UTC))
    seed(session, RequestType.DELETION, datetime(2026, 11, 18, 6, tzinfo=UTC))
    seed(session, RequestType.DELETION, datetime(2026, 11, 18, 7, tzinfo=UTC), Status.IN_PROGRESS)
    html = admin_client.get("/admin/reports").get_data(as_text=True)
    charts = re.findall(r"<svg class=\"chart\".*?</svg>", html, re.S)
    assert len(charts) == 3  # no request closed yet: days to close shows a sentence instead of two charts
    for chart in charts:
        assert 'role="img"' in chart and "<title id=" in chart and "<desc id=" in chart
    weekly = charts[0]
    assert "Requests received per week, by type" in weekly and "Week starting (Monday)" in weekly
    assert ">Requests</text>" in weekly and "16 Nov: 2 Deletion" in weekly  # axis title; a bar's tooltip
    assert "3 requests received in 26 weeks" in weekly
    week_row = re.search(r"<th scope=\"row\">16 Nov 2026</th>(.*?)</tr>", html, re.S).group(1)
    assert re.findall(r">(\d+)</td>", week_row) == ["1", "0", "0", "2", "0", "0", "0", "3"]
    assert "No request was closed in this range." in html
    assert "style=" not in html and "<script" not in html  # the CSP allows neither


def test_days_to_close_and_on_time_rate_for_a_chosen_range(admin_client, session):
    for closed_day in (5, 12):
        seed(
            session,
            RequestType.ACCESS,
            datetime(2026, 10, 1, 6, tzinfo=UTC),
            Status.COMPLETED,
            datetime(2026, 10, closed_day, 6, tzinfo=UTC),
            due=date(2026, 10, 10),
            jurisdiction="eu_gdpr",
        )
    html = admin_client.get("/admin/reports?from=2026-10-01&until=2026-10-31").get_data(as_text=True)
    assert "From 1 October 2026 to 31 October 2026" in html
    assert "Share closed on time: October 2026 50%." in html
    assert re.search(r"<th scope=\"row\">October 2026</th><td class=\"number\">2</td><td class=\"number\">1</td>", html)
    assert "Access: median 7.5, 90th percentile 11 days" in html  # 4 and 11 days
    assert "European Union (GDPR)" in html
    backwards = admin_client.get("/admin/reports?from=2026-10-31&until=2026-10-01").get_data(as_text=True)
    assert "it now covers one day" in backwards


def test_overdue_requests_link_to_their_pages(admin_client, session):
    late = seed(
        session, RequestType.ACCESS, datetime(2026, 10, 1, tzinfo=UTC), Status.IN_PROGRESS, due=date(2026, 11, 1)
    )
    html = admin_client.get("/admin/reports").get_data(as_text=True)
    section = html[html.index('id="overdue-heading"') :]
    assert f'href="/staff/requests/{late.reference}"' in section
    assert "1 open request past its due date" in section and ">22</span>" in section  # days overdue on 23 Nov

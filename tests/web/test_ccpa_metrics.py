"""The CCPA §7102 metrics CSV against requests counted by hand."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import select

from dsr.domain.lifecycle import Status
from dsr.domain.requests import RejectionReason, RequestType
from dsr.models import AuditEvent
from tests.services.report_fixtures import seed

A, P, C, D, W = (
    RequestType.ACCESS,
    RequestType.PORTABILITY,
    RequestType.CORRECTION,
    RequestType.DELETION,
    RequestType.CONSENT_WITHDRAWAL,
)


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def seed_2025(session) -> None:
    """The demo organisation is in Asia/Kolkata (UTC+5:30): days and years are counted there."""
    # Requests to know (access + portability)
    seed(session, A, utc(2025, 1, 10, 4), Status.COMPLETED, utc(2025, 1, 30, 4))  # 20 days
    seed(session, P, utc(2025, 3, 1, 20), Status.COMPLETED, utc(2025, 3, 12, 10))  # 2 Mar 01:30 local → 12 Mar: 10 days
    seed(
        session, A, utc(2025, 6, 1, 6), Status.REJECTED, utc(2025, 6, 6, 6), reason=RejectionReason.EXCESSIVE
    )  # 5 days
    seed(session, A, utc(2025, 7, 1, 6), Status.EXPIRED, utc(2025, 7, 15, 6))  # never verified
    seed(session, A, utc(2024, 12, 31, 19), Status.IN_PROGRESS)  # 1 Jan 2025, 00:30 local: in 2025, still open
    seed(session, A, utc(2025, 12, 31, 19), Status.COMPLETED, utc(2026, 1, 5, 6))  # 1 Jan 2026 local: not 2025
    seed(session, A, utc(2025, 5, 5, 6), Status.COMPLETED, utc(2025, 5, 6, 6), jurisdiction="eu_gdpr")  # not California
    # Requests to delete
    seed(session, D, utc(2025, 2, 1, 6), Status.COMPLETED, utc(2025, 3, 15, 6))  # 27 + 15 = 42 days
    seed(session, D, utc(2025, 4, 1, 6), Status.REJECTED, utc(2025, 4, 3, 6), reason=RejectionReason.UNVERIFIABLE)  # 2
    seed(session, D, utc(2025, 8, 1, 6), Status.WITHDRAWN, utc(2025, 8, 2, 6))
    seed(session, D, utc(2025, 9, 1, 6), Status.COMPLETED, utc(2025, 9, 8, 6))  # 7 days
    # Requests to correct
    seed(session, C, utc(2025, 10, 1, 6), Status.COMPLETED, utc(2025, 10, 31, 6))  # 30 days
    seed(session, C, utc(2025, 11, 1, 6), Status.COMPLETED, utc(2025, 11, 5, 6))  # 4 days
    # Consent withdrawals: opt-outs only when they name sale/sharing or carry GPC
    seed(session, W, utc(2025, 5, 1, 6), Status.COMPLETED, utc(2025, 5, 1, 7), topics=["sale_sharing"])  # 0 days
    seed(
        session, W, utc(2025, 5, 2, 6), Status.COMPLETED, utc(2025, 5, 3, 6), topics=["marketing_email"], gpc=True
    )  # 1
    seed(session, W, utc(2025, 5, 4, 6), Status.COMPLETED, utc(2025, 5, 4, 7), topics=["marketing_email"])  # not CCPA
    seed(session, W, utc(2025, 6, 10, 6), Status.EXPIRED, utc(2025, 6, 25, 6), topics=["sale_sharing", "marketing_sms"])
    seed(session, RequestType.RESTRICTION, utc(2025, 3, 3, 6), Status.COMPLETED, utc(2025, 3, 4, 6))  # no CCPA kind


EXPECTED_2025 = [
    [
        "request kind",
        "received",
        "complied with in whole or in part",
        "denied",
        "of which not verifiable",
        "withdrawn by the consumer",
        "still open",
        "median days to respond",
    ],
    # know: received 5 (20-day, 10-day, refused, expired, open); complied 2; denied 2 (refused + expired);
    # not verifiable 1 (expired); open 1; median of the answered {5, 10, 20} = 10
    ["Requests to know", "5", "2", "2", "1", "0", "1", "10"],
    # delete: received 4; complied 2 (42 and 7 days); denied 1 (unverifiable, 2 days); withdrawn 1;
    # median of {2, 7, 42} = 7
    ["Requests to delete", "4", "2", "1", "1", "1", "0", "7"],
    # correct: received 2, both complied; median of {4, 30} = (4 + 30) / 2 = 17
    ["Requests to correct", "2", "2", "0", "0", "0", "0", "17"],
    # opt out: sale_sharing (0 days) + GPC (1 day) + expired sale_sharing = 3; complied 2; denied 1 (expired,
    # not verifiable); median of {0, 1} = 0.5; the marketing-only withdrawal is not counted
    ["Requests to opt out of sale/sharing", "3", "2", "1", "1", "0", "0", "0.5"],
]


def test_the_2025_metrics_csv_matches_the_hand_count(admin_client, admin_user, session):
    seed_2025(session)
    response = admin_client.get("/admin/reports/ccpa-metrics.csv?year=2025")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="ccpa-request-metrics-2025.csv"' in response.headers["Content-Disposition"]
    assert list(csv.reader(io.StringIO(response.get_data(as_text=True)))) == EXPECTED_2025
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "reports.exported"))
    assert event.actor_user_id == admin_user.id and event.details == {"report": "ccpa_7102", "year": 2025}


def test_the_reports_page_shows_the_same_table_for_the_chosen_year(admin_client, session):
    seed_2025(session)
    html = admin_client.get("/admin/reports?year=2025").get_data(as_text=True)
    assert "Requests from California consumers received in 2025" in html
    assert '<option value="2025" selected>' in html
    row = html[html.index("Requests to opt out of sale/sharing</th>") :].split("</tr>")[0]
    assert [cell.split(">")[-1] for cell in row.split("</td>")[:-1]] == ["3", "2", "1", "1", "0", "0", "0.5"]
    empty = admin_client.get("/admin/reports/ccpa-metrics.csv?year=2024").get_data(as_text=True)
    assert "Requests to know,0,0,0,0,0,0," in empty  # no median without an answer


def test_a_register_that_starts_this_year_still_offers_last_year_which_is_shown(admin_client, clock):
    clock.set(datetime(2026, 12, 5, 9, tzinfo=UTC))  # no request yet: the page shows last year's (empty) table
    html = admin_client.get("/admin/reports").get_data(as_text=True)
    assert "Requests from California consumers received in 2025" in html
    assert '<option value="2025" selected>' in html and '<option value="2026">' in html

"""Admin → Reports figures: weeks, months and days counted in the organisation's time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from dsr.domain.lifecycle import Status
from dsr.domain.reporting import median, percentile, utc_offsets
from dsr.domain.requests import RequestType
from dsr.services import reports
from tests.services.report_fixtures import seed

KOLKATA, LONDON = ZoneInfo("Asia/Kolkata"), ZoneInfo("Europe/London")
A, D = RequestType.ACCESS, RequestType.DELETION


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def test_weeks_start_on_local_mondays(session):
    seed(session, A, utc(2026, 3, 1, 19))  # Monday 2 March, 00:30 in Kolkata: the second week
    seed(session, A, utc(2026, 3, 1, 18))  # Sunday 1 March, 23:30: the first week
    seed(session, D, utc(2026, 3, 4, 6))
    seed(session, A, utc(2026, 3, 20, 6))  # after the range
    weeks = reports.received_per_week(session, reports.Window(date(2026, 2, 23), date(2026, 3, 8), KOLKATA))
    assert [(w.week_start, w.by_type) for w in weeks] == [
        (date(2026, 2, 23), {A: 1}),
        (date(2026, 3, 2), {A: 1, D: 1}),
    ]


def test_on_time_means_closed_on_or_before_the_due_date_in_local_time(session):
    due = date(2026, 3, 31)
    seed(session, A, utc(2026, 3, 1, 6), Status.COMPLETED, utc(2026, 3, 31, 18), due=due)  # 31 Mar 23:30 local: on time
    seed(session, A, utc(2026, 3, 1, 6), Status.REJECTED, utc(2026, 3, 31, 19), due=due)  # 1 Apr 00:30 local: late
    seed(session, A, utc(2026, 3, 1, 6), Status.COMPLETED, utc(2026, 3, 10, 6), due=due)  # early
    seed(session, A, utc(2026, 3, 1, 6), Status.WITHDRAWN, utc(2026, 3, 11, 6), due=due)  # no answer: not counted
    months = reports.on_time_per_month(session, reports.Window(date(2026, 2, 1), date(2026, 4, 30), KOLKATA))
    assert [(m.month, m.closed, m.on_time) for m in months] == [
        (date(2026, 2, 1), 0, 0),
        (date(2026, 3, 1), 2, 2),
        (date(2026, 4, 1), 1, 0),
    ]
    assert months[0].rate is None and months[1].rate == 1.0 and months[2].rate == 0.0


def test_days_to_close_per_type_and_jurisdiction(session):
    for days, jurisdiction in [(1, "eu_gdpr"), (2, "eu_gdpr"), (3, "eu_gdpr"), (10, "us_ca_ccpa"), (30, "us_ca_ccpa")]:
        seed(session, A, utc(2026, 1, 1, 6), Status.COMPLETED, utc(2026, 1, 1 + days, 6), jurisdiction=jurisdiction)
    seed(session, D, utc(2026, 1, 1, 6), Status.REJECTED, utc(2026, 1, 8, 6), jurisdiction="eu_gdpr")
    seed(session, D, utc(2026, 1, 1, 6), Status.IN_PROGRESS, jurisdiction="eu_gdpr")  # open: not counted
    by_type, by_jurisdiction = reports.days_to_close(
        session, reports.Window(date(2026, 1, 1), date(2026, 1, 31), KOLKATA)
    )
    # access took 1, 2, 3, 10, 30 days: median 3; 90th percentile by nearest rank: ceil(0.9 × 5) = 5th value, 30
    assert [(s.key, s.closed, s.median, s.p90) for s in by_type] == [("access", 5, 3, 30), ("deletion", 1, 7, 7)]
    # eu_gdpr: 1, 2, 3, 7 → median (2 + 3) / 2 = 2.5, 90th: ceil(3.6) = 4th value, 7; us_ca_ccpa: 10, 30
    assert [(s.key, s.closed, s.median, s.p90) for s in by_jurisdiction] == [
        ("eu_gdpr", 4, 2.5, 7),
        ("us_ca_ccpa", 2, 20, 30),
    ]


def test_days_are_counted_across_a_daylight_saving_change(session):
    # London: 29 March 2026 clocks go forward. Received 28 Mar 23:30 GMT, answered 29 Mar 23:30 BST (22:30 UTC).
    seed(session, A, utc(2026, 3, 28, 23, 30), Status.COMPLETED, utc(2026, 3, 29, 22, 30))
    by_type, _ = reports.days_to_close(session, reports.Window(date(2026, 3, 1), date(2026, 3, 31), LONDON))
    assert [(s.median, s.p90) for s in by_type] == [(1, 1)]


def test_overdue_lists_open_requests_past_due_longest_first(session):
    late = seed(session, A, utc(2026, 1, 1, 6), Status.IN_PROGRESS, due=date(2026, 2, 1))
    later = seed(session, D, utc(2026, 1, 1, 6), Status.VERIFIED, due=date(2026, 1, 20))
    seed(session, A, utc(2026, 1, 1, 6), Status.IN_PROGRESS, due=date(2026, 3, 1))  # not yet due
    seed(session, A, utc(2026, 1, 1, 6), Status.COMPLETED, utc(2026, 1, 2), due=date(2026, 1, 10))  # closed
    found = reports.overdue(session, date(2026, 2, 10))
    assert found.total == 2 and [r.reference for r in found.requests] == [later.reference, late.reference]


def test_offsets_find_each_change_to_the_second():
    periods = utc_offsets(LONDON, utc(2026, 1, 1), utc(2027, 1, 1))
    assert periods == [(utc(2026, 1, 1), 0), (utc(2026, 3, 29, 1), 3600), (utc(2026, 10, 25, 1), 0)]
    assert utc_offsets(KOLKATA, utc(2026, 1, 1), utc(2027, 1, 1)) == [(utc(2026, 1, 1), 19800)]


def test_median_and_percentile_from_counts():
    assert median({}) is None and percentile({}, 0.9) is None
    assert median({5: 1}) == 5 and median({1: 1, 4: 1}) == 2.5 and median({1: 2, 9: 1}) == 1
    assert percentile({d: 1 for d in range(1, 11)}, 0.9) == 9  # ten values: the 9th
    assert percentile({1: 9, 100: 1}, 0.9) == 1 and percentile({1: 8, 100: 2}, 0.9) == 100

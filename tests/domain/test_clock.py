"""Deadline edges: month ends, leap years, weekends and holidays per jurisdiction, pauses, extensions."""

from datetime import date, datetime

import pytest

from dsr.domain.calendars import calendar_for
from dsr.domain.clock import LegalClock, Pause, add_months
from dsr.domain.errors import ClockError, DomainError
from dsr.domain.rules import ANY_TYPE, DEFAULT_RULES, DeadlineRule, Period, Unit, find_rule


def rule(jurisdiction: str, request_type: str = "access") -> DeadlineRule:
    return find_rule(DEFAULT_RULES, jurisdiction, request_type)


def at(text: str) -> datetime:
    """Noon UTC on a date, or an exact ISO time."""
    return datetime.fromisoformat(text if "T" in text else f"{text}T12:00:00+00:00")


LONDON = LegalClock("Europe/London")
DUBLIN = LegalClock("Europe/Dublin")
LA = LegalClock("America/Los_Angeles")
KOLKATA = LegalClock("Asia/Kolkata")


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),  # across the year end
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
    ],
)
def test_calendar_month_arithmetic(start, months, expected):
    assert add_months(start, months) == expected


def test_gdpr_same_date_next_month():
    d = DUBLIN.deadline(rule("eu_gdpr"), at("2026-03-10"), at("2026-03-10"))
    assert d.due == date(2026, 4, 10)  # a Friday


def test_gdpr_31_january_ends_on_last_day_of_february_in_a_leap_year():
    d = DUBLIN.deadline(rule("eu_gdpr"), at("2028-01-31"), at("2028-01-31"))
    assert d.due == date(2028, 2, 29)  # Tuesday


def test_gdpr_31_january_to_a_sunday_rolls_to_monday():
    d = DUBLIN.deadline(rule("eu_gdpr"), at("2027-01-31"), at("2027-01-31"))
    assert date(2027, 2, 28).weekday() == 6
    assert d.due == date(2027, 3, 1)


def test_gdpr_due_on_a_holiday_rolls_past_it():
    # Received 3 March 2026: 3 April is Good Friday, then a weekend, then Easter Monday.
    d = DUBLIN.deadline(rule("eu_gdpr"), at("2026-03-03"), at("2026-03-03"))
    assert calendar_for("XECB").holiday_name(date(2026, 4, 3)) == "Good Friday"
    assert calendar_for("XECB").holiday_name(date(2026, 4, 6)) == "Easter Monday"
    assert d.due == date(2026, 4, 7)


def test_uk_bank_holiday_moves_the_due_date():
    # 25 April + 1 month = 25 May 2026, the Spring Bank Holiday in England.
    d = LONDON.deadline(rule("uk_gdpr"), at("2026-04-25"), at("2026-04-25"))
    assert d.due == date(2026, 5, 26)


# Rules that count calendar days and say nothing about working days keep a due date that lands on a
# weekend or a public holiday (roll_forward is off): CCPA (11 CCR §7021(b): "45 calendar days"), LGPD
# (Art. 19(II): "15 days from the request") and the organisation's default (30 days). Each case below
# lands on such a day on purpose, so a clock that rolled it to the next working day would fail.
SAO_PAULO = LegalClock("America/Sao_Paulo")
UTC_CLOCK = LegalClock("UTC")


def test_ccpa_counts_45_calendar_days_and_a_saturday_stays_a_saturday():
    # Received Wednesday 23 September 2026 (noon in Los Angeles). 23 Sep + 7 = 30 Sep, + 31 = 31 Oct,
    # + 7 = 7 Nov: 45 days. 7 November 2026 is a Saturday; rolling would give Monday 9 November
    # (8 November, a Sunday, is also Diwali, a California state holiday).
    d = LA.deadline(rule("us_ca_ccpa"), at("2026-09-23T19:00:00+00:00"), at("2026-09-23"))
    assert date(2026, 11, 7).weekday() == 5
    assert d.due == date(2026, 11, 7)


def test_ccpa_due_date_on_thanksgiving_stays_on_thanksgiving():
    # Received Monday 12 October 2026: 12 Oct + 19 = 31 Oct, + 26 = 26 Nov (45 days), Thanksgiving.
    # Rolling would skip Thanksgiving, the day after and the weekend: Monday 30 November.
    d = LA.deadline(rule("us_ca_ccpa"), at("2026-10-12T19:00:00+00:00"), at("2026-10-12"))
    assert calendar_for("US-CA").holiday_name(date(2026, 11, 26)) == "Thanksgiving Day"
    assert d.due == date(2026, 11, 26)


def test_ccpa_acknowledgement_in_ten_business_days_skips_thanksgiving():
    d = LA.deadline(rule("us_ca_ccpa"), at("2026-11-20T18:00:00+00:00"), at("2026-11-20"))
    # 23, 24, 25, (26 Thanksgiving, 27 day after), 30 Nov, 1, 2, 3, 4, 7, 8 Dec.
    assert d.acknowledge_by == date(2026, 12, 8)


def test_ccpa_opt_out_takes_15_business_days():
    d = LA.deadline(rule("us_ca_ccpa", "consent_withdrawal"), at("2026-12-18T18:00:00+00:00"), at("2026-12-18"))
    # Skips weekends, Christmas Day and New Year's Day.
    assert d.due == date(2027, 1, 12)
    assert d.acknowledge_by is None


def test_dpdp_90_days_and_no_extension():
    r = rule("in_dpdp")
    d = KOLKATA.deadline(r, at("2026-11-23"), at("2026-11-23"))
    assert d.due == date(2027, 2, 21)
    assert not d.extension_available
    with pytest.raises(ClockError, match="no extension"):
        KOLKATA.check_extension(r, d, at("2026-11-24"))


def test_lgpd_15_days():
    d = SAO_PAULO.deadline(rule("br_lgpd"), at("2026-11-23"), at("2026-11-23"))
    assert d.due == date(2026, 12, 8)


def test_lgpd_15_days_ending_on_a_saturday_stay_on_the_saturday():
    # Received Friday 13 November 2026: 13 Nov + 15 = 28 Nov, a Saturday (rolling: Monday 30 November).
    d = SAO_PAULO.deadline(rule("br_lgpd"), at("2026-11-13"), at("2026-11-13"))
    assert date(2026, 11, 28).weekday() == 5
    assert d.due == date(2026, 11, 28)


def test_lgpd_15_days_ending_on_a_brazilian_holiday_stay_on_the_holiday():
    # Received Thursday 5 November 2026: 5 Nov + 15 = Friday 20 November, Black Awareness Day, a national
    # holiday since 2024 (rolling: Monday 23 November).
    d = SAO_PAULO.deadline(rule("br_lgpd"), at("2026-11-05"), at("2026-11-05"))
    assert calendar_for("BR").holiday_name(date(2026, 11, 20)) == "National Day of Zumbi and Black Awareness"
    assert d.due == date(2026, 11, 20)


def test_the_default_rule_counts_30_calendar_days_to_a_saturday():
    # Received Thursday 2 July 2026: 2 Jul + 29 = 31 Jul, + 1 = 1 August (30 days), a Saturday.
    d = UTC_CLOCK.deadline(rule("default"), at("2026-07-02"), at("2026-07-02"))
    assert date(2026, 8, 1).weekday() == 5
    assert d.due == date(2026, 8, 1)


def test_the_default_rule_ignores_public_holidays_even_the_organisations_own():
    # The demo organisation is in India. Received Wednesday 2 September 2026: 2 Sep + 28 = 30 Sep,
    # + 2 = Friday 2 October (30 days), Gandhi Jayanti; the default rule has no holiday calendar.
    d = KOLKATA.deadline(rule("default"), at("2026-09-02"), at("2026-09-02"))
    assert calendar_for("IN").holiday_name(date(2026, 10, 2)) == "Mahatma Gandhi's Birthday"
    assert d.due == date(2026, 10, 2)


def test_received_date_is_the_organisations_local_date():
    # 20:00 UTC on 31 January is already 1 February in Kolkata.
    received = at("2027-01-31T20:00:00+00:00")
    assert KOLKATA.deadline(rule("default"), received, received).received_on == date(2027, 2, 1)
    assert DUBLIN.deadline(rule("default"), received, received).received_on == date(2027, 1, 31)


def test_pause_and_resume_push_the_due_date_back_by_the_paused_days():
    r = rule("uk_gdpr")
    received = at("2026-01-05")
    unpaused = LONDON.deadline(r, received, received)
    assert unpaused.due == date(2026, 2, 5)
    pauses = [Pause(at("2026-01-10"), at("2026-01-17"))]
    resumed = LONDON.deadline(r, received, at("2026-01-20"), pauses)
    assert resumed.paused_days == 7
    assert resumed.due == date(2026, 2, 12)
    assert not resumed.paused


def test_an_open_pause_counts_up_to_now():
    r = rule("uk_gdpr")
    pauses = [Pause(at("2026-01-10"))]
    d = LONDON.deadline(r, at("2026-01-05"), at("2026-01-13"), pauses)
    assert d.paused and d.paused_days == 3
    assert d.due == date(2026, 2, 9)


def test_pause_refused_where_the_law_does_not_stop_the_clock():
    with pytest.raises(ClockError, match="does not allow"):
        LA.check_pause(rule("us_ca_ccpa"), [])
    with pytest.raises(ClockError, match="already paused"):
        LONDON.check_pause(rule("uk_gdpr"), [Pause(at("2026-01-10"))])
    with pytest.raises(ClockError, match="not paused"):
        LONDON.check_resume([Pause(at("2026-01-10"), at("2026-01-11"))])


def test_gdpr_extension_adds_two_months_from_receipt():
    r = rule("eu_gdpr")
    received = at("2026-01-31")
    d = DUBLIN.deadline(r, received, received, extended=True)
    assert d.due == date(2026, 4, 30)
    assert d.unextended_due == date(2026, 3, 2)  # 28 Feb 2026 is a Saturday


def test_extension_only_once():
    r = rule("us_ca_ccpa")
    received = at("2026-03-02")
    extended = LA.deadline(r, received, received, extended=True)
    assert extended.due == date(2026, 5, 31)
    assert not extended.extension_available
    with pytest.raises(ClockError, match="already been extended"):
        LA.check_extension(r, extended, at("2026-03-10"))


def test_extension_notice_window_closes_at_the_original_due_date():
    r = rule("eu_gdpr")
    received = at("2026-03-10")
    on_time = DUBLIN.deadline(r, received, at("2026-04-10"))
    DUBLIN.check_extension(r, on_time, at("2026-04-10"))
    late = DUBLIN.deadline(r, received, at("2026-04-11"))
    assert not late.extension_available
    with pytest.raises(ClockError, match="had to reach the requester by 10 April 2026"):
        DUBLIN.check_extension(r, late, at("2026-04-11"))


def test_extension_with_a_different_unit_is_added_after_the_base_period():
    custom = DeadlineRule("default", ANY_TYPE, Period(10, Unit.BUSINESS_DAYS), Period(1, Unit.MONTHS))
    d = LegalClock("UTC").deadline(custom, at("2026-06-01"), at("2026-06-01"), extended=True)
    assert d.unextended_due == date(2026, 6, 15)
    assert d.due == date(2026, 7, 15)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        DUBLIN.local_date(datetime(2026, 1, 1))


def test_days_left():
    d = DUBLIN.deadline(rule("eu_gdpr"), at("2026-03-10"), at("2026-03-10"))
    assert d.days_left(date(2026, 4, 8)) == 2
    assert d.days_left(date(2026, 4, 12)) == -2


@pytest.mark.parametrize(
    ("text", "period"),
    [
        ("1 month", Period(1, Unit.MONTHS)),
        ("45 days", Period(45, Unit.DAYS)),
        ("10 Business Days", Period(10, Unit.BUSINESS_DAYS)),
        (" 2 months ", Period(2, Unit.MONTHS)),
    ],
)
def test_period_parse(text, period):
    assert Period.parse(text) == period
    assert Period.parse(str(period)) == period


@pytest.mark.parametrize("text", ["", "month", "0 days", "3 weeks", "1000 days", "-1 days"])
def test_period_parse_refuses_nonsense(text):
    with pytest.raises(DomainError):
        Period.parse(text)


def test_rule_lookup_prefers_specific_then_any_then_default():
    assert find_rule(DEFAULT_RULES, "us_ca_ccpa", "consent_withdrawal").respond_within == Period(15, Unit.BUSINESS_DAYS)
    assert find_rule(DEFAULT_RULES, "us_ca_ccpa", "deletion").respond_within == Period(45, Unit.DAYS)
    assert find_rule(DEFAULT_RULES, "mars", "access").jurisdiction == "default"
    with pytest.raises(DomainError):
        find_rule([], "eu_gdpr", "access")


def test_unknown_holiday_calendar_is_a_clear_error():
    with pytest.raises(DomainError, match="Unknown holiday calendar"):
        calendar_for("ZZ-QQ")

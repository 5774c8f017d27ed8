"""The reminder schedule: calendar days before the due date, moved back to working days, one per day."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from dsr.domain.calendars import WorkingCalendar
from dsr.domain.reminders import ReminderKey, ReminderSchedule, parse_days, parse_time

KOLKATA = ZoneInfo("Asia/Kolkata")


def schedule(days=(7, 3, 1, 0), holidays: str = "") -> ReminderSchedule:
    return ReminderSchedule(days, time(9, 0), KOLKATA, WorkingCalendar(holidays))


def test_reminders_on_working_days_fall_on_their_own_day():
    # Due Wednesday 16 December 2026: a week before is a Wednesday, 3 days before a Sunday.
    assert schedule().send_days(date(2026, 12, 16)) == {
        0: date(2026, 12, 16),
        1: date(2026, 12, 15),
        3: date(2026, 12, 11),  # Sunday 13th goes out on Friday 11th
        7: date(2026, 12, 9),
    }


def test_a_reminder_on_a_weekend_or_holiday_goes_out_the_working_day_before_and_shared_days_merge():
    # Due Monday 28 December 2026 (after Christmas on the TARGET calendar): 3 days before is Christmas
    # Day, 1 day before a Sunday; both go back to Thursday 24th, which keeps the more urgent one.
    assert schedule(holidays="XECB").send_days(date(2026, 12, 28)) == {
        0: date(2026, 12, 28),
        1: date(2026, 12, 24),
        7: date(2026, 12, 21),
    }


def test_the_stage_is_the_latest_reminder_reached_and_none_once_overdue():
    plan = schedule()
    due = date(2026, 12, 16)
    assert plan.stage(due, date(2026, 12, 8)) is None
    assert plan.stage(due, date(2026, 12, 9)) == 7
    assert plan.stage(due, date(2026, 12, 10)) == 7
    assert plan.stage(due, date(2026, 12, 11)) == 3
    assert plan.stage(due, date(2026, 12, 15)) == 1
    assert plan.stage(due, date(2026, 12, 16)) == 0
    assert plan.stage(due, date(2026, 12, 17)) is None


def test_the_reminder_day_starts_at_the_send_time_in_the_organisations_time_zone():
    plan = schedule()
    assert plan.today(datetime(2026, 12, 9, 3, 29, tzinfo=UTC)) == date(2026, 12, 8)  # 08:59 in Kolkata
    assert plan.today(datetime(2026, 12, 9, 3, 30, tzinfo=UTC)) == date(2026, 12, 9)  # 09:00
    assert plan.today(datetime(2026, 12, 9, 20, 0, tzinfo=UTC)) == date(2026, 12, 9)  # 01:30 on the 10th


def test_keys_name_the_due_date_so_a_moved_date_is_a_new_reminder():
    before = ReminderKey("due-7", 3, 42, date(2026, 12, 16))
    after = ReminderKey("due-7", 3, 42, date(2027, 2, 16))
    assert before.text != after.text
    assert ReminderKey("overdue", 3, 42, date(2026, 12, 16), date(2026, 12, 18)).text.endswith("on 2026-12-18")


def test_settings_are_parsed_strictly():
    assert parse_days("7, 3,1,0") == (7, 3, 1, 0)
    assert parse_time("08:30") == time(8, 30)
    for bad in ("", "seven", "-1", "99"):
        with pytest.raises(ValueError):
            parse_days(bad)
    for bad in ("9", "25:00", "nine"):
        with pytest.raises(ValueError):
            parse_time(bad)

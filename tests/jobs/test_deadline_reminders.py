"""Deadline reminders with a moving clock: the days and local times they go out, what moves them, who gets them."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.clock import LegalClock
from dsr.domain.lifecycle import Action
from dsr.jobs.reminders import deadline_reminders, overdue_escalation
from dsr.models import SentReminder
from dsr.services.deadlines import extend_deadline, pause_clock, resume_clock
from dsr.services.requests import transition
from tests.factories import outbox_texts
from tests.jobs.conftest import local, sent, verified_request, walk

CLOCK = LegalClock("Asia/Kolkata")
STAFF_ACTOR = Actor.system("tests")


def reminder_log(session) -> list[tuple[str, date]]:
    return [(row.kind, row.about) for row in session.scalars(select(SentReminder).order_by(SentReminder.id))]


def test_a_request_gets_its_reminders_on_working_days_at_nine_across_a_weekend_and_christmas(
    app, session, clock, staff, monkeypatch
):
    monkeypatch.setitem(app.config, "DSR_REMINDER_HOLIDAYS", "XECB")  # the office closes on TARGET holidays
    # Received Wednesday 25 November: one month is Friday 25 December, Christmas; the 26th is a
    # holiday too and the 27th a Sunday, so the request is due Monday 28 December.
    request = verified_request(session, local(date(2026, 11, 25), "10:00"), assignee=staff.sam)
    assert request.due_on == date(2026, 12, 28)

    walk(app, clock, date(2026, 11, 25), date(2026, 12, 31), [deadline_reminders])

    ref = request.reference
    assert [(m.at.strftime("%a %d %b %H:%M"), m.subject) for m in sent(session, "reminder")] == [
        ("Mon 21 Dec 09:00", f"Due in 7 days: {ref}"),
        # 3 days before is Christmas Day and 1 day before a Sunday: both go out on Thursday 24th, once.
        ("Thu 24 Dec 09:00", f"Due in 4 days: {ref}"),
        ("Mon 28 Dec 09:00", f"Due today: {ref}"),
    ]
    assert {m.to for m in sent(session, "reminder")} == {staff.sam.email}


def test_an_extension_drops_the_old_reminders_and_the_new_due_date_gets_its_own(app, session, clock, staff):
    request = verified_request(session, local(date(2026, 3, 2), "10:00"), assignee=staff.sam)
    assert request.due_on == date(2026, 4, 2)
    walk(app, clock, date(2026, 3, 2), date(2026, 3, 27), [deadline_reminders], times=["09:00"])
    assert reminder_log(session) == [("due-7", date(2026, 4, 2))]

    clock.set(local(date(2026, 3, 27), "11:00"))
    extend_deadline(session, STAFF_ACTOR, clock(), request, CLOCK, "Many systems to search.")
    session.commit()
    assert request.due_on == date(2026, 6, 2)  # three months from receipt

    walk(app, clock, date(2026, 3, 27), date(2026, 6, 3), [deadline_reminders], times=["09:00"])
    new_due = date(2026, 6, 2)
    assert reminder_log(session) == [
        ("due-7", date(2026, 4, 2)),
        ("due-7", new_due),
        ("due-3", new_due),
        ("due-1", new_due),
        ("due-0", new_due),
    ]
    days = [m.at.strftime("%a %d %b") for m in sent(session, "reminder")]
    assert days == ["Thu 26 Mar", "Tue 26 May", "Fri 29 May", "Mon 01 Jun", "Tue 02 Jun"]  # 30 May is a Saturday


def test_no_reminders_while_the_clock_is_paused_and_the_resumed_due_date_gets_them(app, session, clock, staff):
    request = verified_request(session, local(date(2026, 3, 2), "10:00"), "uk_gdpr", assignee=staff.sam)
    assert request.due_on == date(2026, 4, 2)
    clock.set(local(date(2026, 3, 20), "10:00"))
    pause_clock(session, STAFF_ACTOR, clock(), request, CLOCK, "Waiting for proof of identity")
    session.commit()

    walk(app, clock, date(2026, 3, 20), date(2026, 4, 10), [deadline_reminders], times=["09:00"])
    assert sent(session, "reminder") == []  # the stored date (2 April) passes, but the clock is stopped

    clock.set(local(date(2026, 4, 10), "10:00"))
    resume_clock(session, STAFF_ACTOR, clock(), request, CLOCK)
    session.commit()
    assert request.due_on == date(2026, 4, 23)  # 21 days later

    walk(app, clock, date(2026, 4, 10), date(2026, 4, 24), [deadline_reminders], times=["09:00"])
    assert reminder_log(session) == [(f"due-{n}", date(2026, 4, 23)) for n in (7, 3, 1, 0)]


def test_unassigned_requests_remind_every_active_member_of_staff_who_may_see_them(app, session, clock, staff):
    received = local(date(2026, 3, 2), "10:00")
    open_one = verified_request(session, received)
    secret = verified_request(session, received)
    secret.confidential = True
    orphaned = verified_request(session, received, assignee=staff.kim)
    staff.kim.active = False  # left the organisation; their requests must not go quiet
    session.commit()

    clock.set(local(date(2026, 3, 26), "09:00"))
    deadline_reminders(app)

    got = {(m.to, m.subject.rsplit(" ", 1)[-1]) for m in sent(session, "reminder")}
    everyone = {staff.admin.email, staff.sam.email}
    assert got == (
        {(email, open_one.reference) for email in everyone}
        | {(staff.admin.email, secret.reference)}  # confidential: admins only
        | {(email, orphaned.reference) for email in everyone}
    )


def test_an_overdue_request_is_escalated_to_the_admins_once_a_day(app, session, clock, staff):
    late = verified_request(session, local(date(2026, 3, 2), "10:00"), assignee=staff.sam)
    later = verified_request(session, local(date(2026, 3, 4), "10:00"))
    assert (late.due_on, later.due_on) == (date(2026, 4, 2), date(2026, 4, 7))  # after the Easter weekend

    walk(app, clock, date(2026, 4, 6), date(2026, 4, 9), [overdue_escalation])
    clock.set(local(date(2026, 4, 9), "12:00"))
    transition(session, STAFF_ACTOR, clock(), late, Action.START)
    transition(session, STAFF_ACTOR, clock(), late, Action.COMPLETE)
    session.commit()
    walk(app, clock, date(2026, 4, 10), date(2026, 4, 10), [overdue_escalation])

    escalations = sent(session, "overdue_escalation")
    assert {m.to for m in escalations} == {staff.admin.email}
    assert [(m.at.strftime("%d %b %H:%M"), m.subject.split(" on ")[0]) for m in escalations] == [
        ("06 Apr 09:00", "1 overdue request"),
        ("07 Apr 09:00", "1 overdue request"),  # the other one is due today: not overdue yet
        ("08 Apr 09:00", "2 overdue requests"),
        ("09 Apr 09:00", "2 overdue requests"),
        ("10 Apr 09:00", "1 overdue request"),  # the completed one stops
    ]
    eighth = outbox_texts(session, template="overdue_escalation")[2]
    assert f"{late.reference}: due 2 Apr 2026 (6 days late)" in eighth and later.reference in eighth
    assert "Ada Lovelace" not in eighth and "ada@example.org" not in eighth  # no requester details


def test_a_scheduler_that_was_down_sends_one_late_reminder_not_a_backlog(app, session, clock, staff):
    request = verified_request(session, local(date(2026, 3, 2), "10:00"), assignee=staff.sam)
    clock.set(local(date(2026, 3, 31), "15:00"))  # first run since the 7- and 3-day reminders were due
    deadline_reminders(app)
    deadline_reminders(app)
    assert [m.subject for m in sent(session, "reminder")] == [f"Due in 2 days: {request.reference}"]
    assert reminder_log(session) == [("due-3", date(2026, 4, 2))]
    clock.set(local(date(2026, 4, 1), "09:00") + timedelta(seconds=1))
    deadline_reminders(app)
    assert reminder_log(session)[-1] == ("due-1", date(2026, 4, 2))

"""The acknowledgement clock, the extension-notice window and the daily digest, with a moving clock."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.clock import LegalClock
from dsr.jobs.reminders import acknowledgement_clock, extension_window, staff_digest
from dsr.models import SentReminder
from dsr.services.deadlines import extend_deadline
from tests.factories import outbox_texts
from tests.jobs.conftest import local, sent, verified_request, walk


def test_an_unacknowledged_ccpa_request_reminds_staff_before_its_date_and_tells_admins_once_it_is_missed(
    app, session, clock, staff
):
    request = verified_request(session, local(date(2026, 11, 30), "10:00"), "us_ca_ccpa", acknowledged=False)
    done = verified_request(session, local(date(2026, 11, 30), "10:00"), "us_ca_ccpa", acknowledged=True)
    assert request.acknowledge_by == date(2026, 12, 14)  # 10 business days

    walk(app, clock, date(2026, 11, 30), date(2026, 12, 20), [acknowledgement_clock])

    got = [(m.to, m.at.strftime("%a %d %b %H:%M"), m.subject) for m in sent(session, "acknowledgement_reminder")]
    ref = request.reference
    soon, missed = f"Acknowledge receipt by 14 December: {ref}", f"Receipt not acknowledged in time: {ref}"
    people = [staff.admin.email, staff.sam.email, staff.kim.email]  # nobody assigned: all staff
    assert got == (
        [(to, "Fri 11 Dec 09:00", soon) for to in people]  # 2 days before is a Saturday
        + [(to, "Mon 14 Dec 09:00", soon) for to in people]
        + [(staff.admin.email, "Tue 15 Dec 09:00", missed)]  # admins, once
    )
    assert done.reference not in "".join(outbox_texts(session, template="acknowledgement_reminder"))


def test_staff_are_reminded_once_when_the_last_day_for_an_extension_notice_is_near(app, session, clock, staff):
    received = local(date(2026, 3, 2), "10:00")
    gdpr = verified_request(session, received, assignee=staff.sam)
    extended = verified_request(session, received, assignee=staff.sam)
    no_extension_in_law = verified_request(session, received, "br_lgpd", assignee=staff.sam)
    extend_deadline(session, Actor.system("tests"), received, extended, LegalClock("Asia/Kolkata"), "Complex")
    session.commit()

    walk(app, clock, date(2026, 3, 2), date(2026, 4, 3), [extension_window])

    got = [(m.to, m.at.strftime("%a %d %b %H:%M"), m.subject) for m in sent(session, "extension_reminder")]
    assert got == [(staff.sam.email, "Mon 23 Mar 09:00", f"Last day to extend {gdpr.reference}: 2 April")]
    text = outbox_texts(session, template="extension_reminder")[0]
    assert "by up to 2 months" in text and "in 10 days" in text
    assert no_extension_in_law.reference not in text


def test_each_person_gets_one_digest_each_working_day_of_their_requests_and_what_is_due_this_week(
    app, session, clock, staff
):
    mine = verified_request(session, local(date(2026, 3, 2), "10:00"), assignee=staff.sam)  # due Thu 2 April
    unassigned = verified_request(session, local(date(2026, 3, 2), "11:00"))  # due Thu 2 April too
    hidden = verified_request(session, local(date(2026, 3, 2), "12:00"))
    hidden.confidential = True
    later = verified_request(session, local(date(2026, 3, 20), "10:00"))  # due 20 April: not this week
    session.commit()

    # Friday 27 March to Monday 30 March, before, at and after 08:00.
    walk(app, clock, date(2026, 3, 27), date(2026, 3, 30), [staff_digest], times=["07:59", "08:00", "12:00"])

    digests = sent(session, "staff_digest")
    assert sorted((m.to, m.at.strftime("%a %H:%M")) for m in digests) == sorted(
        (person.email, day) for person in (staff.admin, staff.sam, staff.kim) for day in ("Fri 08:00", "Mon 08:00")
    )
    sams = outbox_texts(session, to=staff.sam.email, template="staff_digest")
    assert "Assigned to you: 1 open request." in sams[0] and mine.reference in sams[0]
    assert unassigned.reference in sams[0] and hidden.reference not in sams[0]  # confidential: not Sam's
    assert later.reference not in sams[0]
    admins = outbox_texts(session, to=staff.admin.email, template="staff_digest")[0]
    assert "Assigned to you: 0 open requests." in admins and hidden.reference in admins
    assert "Ada Lovelace" not in admins and "ada@example.org" not in admins  # no requester details


def test_a_person_with_nothing_open_and_nothing_due_gets_no_digest_but_the_day_counts_as_done(
    app, session, clock, staff
):
    clock.set(local(date(2026, 3, 27), "08:00"))
    staff_digest(app)
    staff_digest(app)
    assert sent(session, "staff_digest") == []
    days = session.scalars(select(SentReminder.on_day).where(SentReminder.kind == "digest")).all()
    assert days == [date(2026, 3, 27)] * 3

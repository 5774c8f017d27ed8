"""Admin → Audit log: readable events, filters, newest-first pages, CSV export and the chain check."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from dsr.domain.actors import Actor
from dsr.models import AuditEvent
from dsr.services.audit import record_event
from tests.factories import make_request
from tests.web.conftest import post_form

T0 = datetime(2026, 10, 1, 6, 0, tzinfo=UTC)  # 11:30 in Asia/Kolkata, the demo profile's zone


def rows(html: str) -> list[str]:
    return re.findall(r'<tr id="event-\d+">.*?</tr>', html, re.S)


def test_events_show_who_did_what_with_readable_labels_and_safe_details(admin_client, session):
    request = make_request(session, T0)
    record_event(session, Actor.system("scheduler"), "clock.extended", T0, request, reason="<b>busy</b>", days=45)
    session.commit()
    html = admin_client.get("/admin/audit").get_data(as_text=True)
    newest = rows(html)[0]
    assert "Deadline extended" in newest and "clock.extended" in newest
    assert f'href="/staff/requests/{request.reference}"' in newest
    assert "1 October 2026, 11:30" in newest and "scheduler" in newest
    assert "&lt;b&gt;busy&lt;/b&gt;" in newest and "<b>busy</b>" not in html
    assert "Request received" in html  # the submission, further down
    assert 'href="/admin/audit"' in admin_client.get("/admin/").get_data(as_text=True)  # the card on Admin


def test_filters_by_action_family_actor_reference_and_dates(admin_client, admin_user, session):
    first = make_request(session, T0)
    second = make_request(session, T0 + timedelta(days=3), email="bo@example.org")
    for offset, action, request in [
        (1, "request.note_added", first),
        (2, "clock.paused", first),
        (4, "request.start", second),
    ]:
        record_event(session, Actor.system("tests"), action, T0 + timedelta(days=offset), request)
    session.commit()

    def shown(**args) -> list[str]:
        html = admin_client.get("/admin/audit", query_string=args).get_data(as_text=True)
        return [re.search(r"<code class=\"muted\">([^<]+)</code>", row).group(1) for row in rows(html)]

    assert shown(action="clock.") == ["clock.paused"]
    assert set(shown(action="request.")) >= {"request.note_added", "request.start", "request.submitted"}
    assert "clock.paused" not in shown(action="request.")
    assert shown(action="request.start") == ["request.start"]
    assert shown(reference=first.reference.lower()) == ["clock.paused", "request.note_added", "request.submitted"]
    assert shown(reference="DSR-2026-NONE-XXXX") == []
    # 3 and 4 October, local time: the pause (3 Oct, 11:30) and the second request (4 Oct); not the start (5 Oct).
    assert shown(**{"from": "2026-10-03", "until": "2026-10-04"}) == ["clock.paused", "request.submitted"]  # by id
    assert shown(**{"from": "not a date", "action": "clock."}) == ["clock.paused"]  # a bad date is ignored
    assert "auth.login" in shown(actor=admin_user.public_id)
    assert "request.submitted" not in shown(actor=admin_user.public_id)
    assert shown(actor="kind:requester") == ["request.submitted", "request.submitted"]


def test_pages_go_newest_first_and_continue_without_repeating(admin_client, session):
    session.execute(delete(AuditEvent))
    for n in range(60):
        record_event(session, Actor.system("tests"), "job.run_now", T0 + timedelta(minutes=n), job=f"job {n}")
    session.commit()
    first = admin_client.get("/admin/audit", query_string={"action": "job.run_now"}).get_data(as_text=True)
    assert len(rows(first)) == 50 and "job 59" in rows(first)[0]
    older = re.search(r'href="([^"]+before=\d+[^"]*)">Older events', first).group(1).replace("&amp;", "&")
    second = admin_client.get(older).get_data(as_text=True)
    assert len(rows(second)) == 10 and "job 9" in rows(second)[0] and "job 0" in rows(second)[-1]
    assert "Older events" not in second and "(continued)" in second


def test_csv_export_streams_the_filtered_log_and_is_itself_recorded(admin_client, admin_user, session):
    request = make_request(session, T0)
    record_event(session, Actor.system("tests"), "request.note_added", T0, request, note="=HYPERLINK(1)")
    session.commit()
    response = admin_client.get("/admin/audit.csv", query_string={"reference": request.reference})
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["action"] for row in table] == ["request.note_added", "request.submitted"]
    assert table[0]["description"] == "Note added" and table[0]["request"] == request.reference
    assert table[0]["details"] == '{"note": "=HYPERLINK(1)"}'  # JSON starts with "{", no formula
    assert table[1]["chain_position"] and len(table[1]["hash"]) == 64
    export = session.scalar(select(AuditEvent).where(AuditEvent.action == "audit.exported"))
    assert export.actor_user_id == admin_user.id and export.details == {"reference": request.reference}


def test_verify_now_reports_an_intact_chain_then_names_a_deleted_row(admin_client, session):
    make_request(session, T0)
    make_request(session, T0, email="bo@example.org")
    html = post_form(admin_client, "/admin/audit/verify", {}, token_from="/admin/audit", follow=True).get_data(
        as_text=True
    )
    assert "The audit trail is intact" in html and "badge-ok" in html
    victim, after = session.scalars(select(AuditEvent.id).order_by(AuditEvent.chain_seq).limit(2)).all()
    session.execute(delete(AuditEvent).where(AuditEvent.id == victim))
    session.commit()
    html = post_form(admin_client, "/admin/audit/verify", {}, token_from="/admin/audit", follow=True).get_data(
        as_text=True
    )
    assert f"The audit trail is broken at event #{after}" in html and "removed" in html
    assert "Broken" in html
    checks = session.scalars(select(AuditEvent.details).where(AuditEvent.action == "audit.verified")).all()
    assert [c["result"] for c in checks] == ["intact", "broken"]

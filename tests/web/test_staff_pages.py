"""Staff pages as staff use them: queue, request page, actions, letters, register, permissions."""

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action, Status
from dsr.models import DataSubjectRequest, ResponseTemplate, Role, StaffUser
from dsr.services.requests import transition
from tests.factories import make_request, make_user, outbox_texts
from tests.web.conftest import STAFF_EMAIL, admin_sign_in, csrf_token, post_form, sign_in


@pytest.fixture
def filed(session):
    request = make_request(session, datetime.now(UTC), jurisdiction="eu_gdpr")
    transition(session, Actor.system("tests"), datetime.now(UTC), request, Action.VERIFY)
    session.commit()
    return request


def page_of(client, request) -> str:
    return f"/staff/requests/{request.reference}"


def act(client, request, action, data=None):
    return post_form(client, f"{page_of(client, request)}/{action}", data or {}, token_from=page_of(client, request))


def test_queue_lists_requests_with_due_badges_and_filters(staff_client, filed, session):
    html = staff_client.get("/staff/").get_data(as_text=True)
    assert filed.reference in html and "Ada Lovelace" in html and "badge-ok" in html
    assert filed.reference not in staff_client.get("/staff/?assignee=mine").get_data(as_text=True)
    act(staff_client, filed, "claim")
    assert filed.reference in staff_client.get("/staff/?assignee=mine").get_data(as_text=True)
    assert "No requests match" in staff_client.get("/staff/?q=nobody").get_data(as_text=True)


def test_queue_and_request_page_name_the_jurisdiction(staff_client, filed):
    for path in ("/staff/", page_of(staff_client, filed)):
        html = staff_client.get(path).get_data(as_text=True)
        assert ">European Union (GDPR)</" in html and ">eu_gdpr<" not in html, path


def test_queue_page_ids_are_unique_so_each_label_names_one_control(staff_client, filed):
    html = staff_client.get("/staff/").get_data(as_text=True)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert '<label for="bulk-assignee">Assign to</label>' in html


def test_request_page_shows_clock_identity_and_only_allowed_actions(staff_client, filed):
    html = staff_client.get(page_of(staff_client, filed)).get_data(as_text=True)
    assert "Legal clock" in html and "available until" in html and "Request received" in html
    assert ">Start work<" in html and ">Reject<" in html and ">Reopen<" not in html
    assert "Verify identity by hand" not in html  # already verified


def test_claim_start_note_and_timeline(staff_client, filed, session):
    assert act(staff_client, filed, "claim").status_code == 302
    act(staff_client, filed, "start")
    act(staff_client, filed, "note", {"note-body": "Checked the CRM <b>first</b>"})
    html = staff_client.get(page_of(staff_client, filed)).get_data(as_text=True)
    assert "Work started" in html and "Internal note" in html and "Checked the CRM &lt;b&gt;first&lt;/b&gt;" in html
    session.expire_all()
    assert session.get(DataSubjectRequest, filed.id).status is Status.IN_PROGRESS


def test_timeline_names_people_types_and_places_instead_of_ids_and_keys(staff_client, filed, staff_user):
    act(staff_client, filed, "claim")
    act(staff_client, filed, "jurisdiction", {"jur-jurisdiction": "br_lgpd"})
    html = staff_client.get(page_of(staff_client, filed)).get_data(as_text=True)
    timeline = html[html.index('id="h-timeline"') :]
    assert "type: Access my data, jurisdiction: European Union (GDPR)" in timeline
    assert "from: Submitted, to: Verified" in timeline
    assert 'Assignment changed</strong> <span class="muted">to: Sam Staff</span>' in timeline
    assert "from: European Union (GDPR), to: Brazil (LGPD)" in timeline
    assert staff_user.public_id not in timeline


def test_other_staff_cannot_act_on_a_claimed_request_by_editing_the_url(staff_client, filed, session, app):
    act(staff_client, filed, "claim")
    make_user(session, "kim@acme-crm.example", Role.STAFF, "Kim")
    kim = app.test_client()
    sign_in(kim, "kim@acme-crm.example")
    assert kim.get(page_of(kim, filed)).status_code == 200  # may read and add notes
    for action in ("start", "release", "reject", "extend"):
        response = kim.post(f"{page_of(kim, filed)}/{action}", data={"csrf_token": csrf_token(kim, "/staff/")})
        assert response.status_code == 403, action
    assert kim.get(f"{page_of(kim, filed)}/reject").status_code == 403


def test_confidential_request_is_404_for_other_staff(staff_client, filed, session):
    filed.confidential = True
    session.commit()
    assert staff_client.get(page_of(staff_client, filed)).status_code == 404
    assert filed.reference not in staff_client.get("/staff/").get_data(as_text=True)
    response = staff_client.post(
        f"{page_of(staff_client, filed)}/claim", data={"csrf_token": csrf_token(staff_client, "/staff/")}
    )
    assert response.status_code == 404


def test_bulk_assign_skips_what_is_not_yours(app, admin_user, clock, staff_client, filed, session):
    second = make_request(session, datetime.now(UTC), email="b@example.org")
    sam = session.scalar(select(StaffUser).where(StaffUser.email == STAFF_EMAIL))
    filed.assignee = session.scalar(select(StaffUser).where(StaffUser.role == Role.ADMIN))
    session.commit()
    response = post_form(
        staff_client,
        "/staff/bulk-assign",
        {"references": [filed.reference, second.reference], "assignee": sam.public_id},
        token_from="/staff/",
    )
    html = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    # Sam may claim the unassigned one for himself, but not take the admin's.
    assert "Assigned 1 request(s)" in html and f"Not assigned (not yours to assign): {filed.reference}" in html
    admin_client = app.test_client()
    admin_sign_in(admin_client, admin_user, clock)
    post_form(
        admin_client,
        "/staff/bulk-assign",
        {"references": [filed.reference, second.reference], "assignee": sam.public_id},
        token_from="/staff/",
    )
    session.expire_all()
    assert {r.assignee_id for r in session.scalars(select(DataSubjectRequest))} == {sam.id}


def test_reject_letter_is_prefilled_per_reason_and_reaches_the_requester(staff_client, filed, session):
    html = staff_client.get(f"{page_of(staff_client, filed)}/reject?reason=duplicate").get_data(as_text=True)
    assert "duplicates another request of yours" in html and "Dear Ada Lovelace" in html
    response = act(
        staff_client,
        filed,
        "reject?reason=duplicate",
        {
            "reason_code": "duplicate",
            "subject": "Our answer",
            "body": "Dear Ada, this repeats DSR-X.",
        },
    )
    assert response.status_code == 302
    session.expire_all()
    stored = session.get(DataSubjectRequest, filed.id)
    assert stored.status is Status.REJECTED and stored.rejection_reason == "duplicate"
    assert outbox_texts(session, template="letter")[0].startswith("Dear Ada, this repeats DSR-X.")
    assert staff_client.get(f"{page_of(staff_client, filed)}/reject?reason=bogus").status_code == 404


def test_late_extension_is_refused_with_a_message(staff_client, filed, session, clock):
    clock.set(datetime(2030, 1, 1, tzinfo=UTC))
    response = act(staff_client, filed, "extend", {"reason": "late", "subject": "s", "body": "b"})
    page = staff_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "had to reach the requester by" in page
    session.expire_all()
    assert not session.get(DataSubjectRequest, filed.id).is_extended


def test_legal_clock_says_why_no_extension_is_offered(staff_client, filed, session, clock):
    due = filed.due_on.strftime("%-d %B %Y")
    clock.set(datetime(2030, 1, 1, tzinfo=UTC))  # long after the notice window
    html = staff_client.get(page_of(staff_client, filed)).get_data(as_text=True)
    assert f"<dt>Extension</dt><dd>no longer available: the notice had to reach the requester by {due}</dd>" in html
    dpdp = make_request(session, datetime.now(UTC), jurisdiction="in_dpdp")
    html = staff_client.get(page_of(staff_client, dpdp)).get_data(as_text=True)
    assert "<dt>Extension</dt><dd>none under this law</dd>" in html


def test_change_of_jurisdiction_recomputes_the_due_date(staff_client, filed, session):
    before = filed.due_on
    act(staff_client, filed, "jurisdiction", {"jur-jurisdiction": "br_lgpd"})
    session.expire_all()
    after = session.get(DataSubjectRequest, filed.id)
    assert after.jurisdiction == "br_lgpd" and after.due_on < before


def test_register_csv_has_every_request_with_dates_and_outcome(staff_client, filed, session):
    transition(session, Actor.system("t"), datetime.now(UTC), filed, Action.REJECT)
    make_request(session, datetime.now(UTC), email="other@example.org")
    response = staff_client.get("/staff/register.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 2
    rejected = next(r for r in rows if r["reference"] == filed.reference)
    assert rejected["outcome"] == "rejected" and rejected["received"] and rejected["closed"] and rejected["due"]


def test_admin_edits_a_letter_template(admin_client, session, filed):
    bad = post_form(admin_client, "/admin/letters/extension", {"subject": "More time", "body": "Until {due_day}"})
    assert "Unknown placeholder(s): {due_day}" in bad.get_data(as_text=True)
    post_form(
        admin_client, "/admin/letters/extension", {"subject": "More time for {reference}", "body": "Until {due_date}."}
    )
    template = session.scalar(select(ResponseTemplate).where(ResponseTemplate.key == "extension"))
    session.refresh(template)
    assert template.body == "Until {due_date}."
    html = admin_client.get(f"/staff/requests/{filed.reference}/extend").get_data(as_text=True)
    assert f"More time for {filed.reference}" in html


def verified_count(html: str) -> int:
    return int(html.split('<span class="count">')[2].split("<")[0])  # the second status: Verified


def test_cached_queue_counts_keep_each_viewers_confidential_requests_their_own(
    staff_client, filed, session, app, monkeypatch
):
    monkeypatch.setitem(app.config, "DSR_QUEUE_COUNTS_SECONDS", 3600)
    app.extensions.pop("dsr_queue_counts", None)
    act(staff_client, filed, "claim")
    session.refresh(filed)
    filed.confidential = True
    session.commit()
    make_user(session, "kim@acme-crm.example", Role.STAFF, "Kim")
    kim = app.test_client()
    sign_in(kim, "kim@acme-crm.example")
    mine = verified_count(staff_client.get("/staff/").get_data(as_text=True))
    theirs = verified_count(kim.get("/staff/").get_data(as_text=True))
    assert (mine, theirs) == (1, 0)  # counted for the assignee only, whoever looked first
    assert verified_count(staff_client.get("/staff/").get_data(as_text=True)) == 1

"""The erasure and correction forms on the request page, as staff and admins use them."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select, text

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action
from dsr.domain.requests import RequestType
from dsr.domain.verification import Factor
from dsr.models import CorrectionItem, Decision, ErasurePlan, PlanStatus
from dsr.services.requests import transition
from dsr.sources.demo_crm import DEMO_PEOPLE, create_demo_crm
from tests.factories import make_request
from tests.web.conftest import admin_sign_in, csrf_token, post_form

ASHA = DEMO_PEOPLE[0]


@pytest.fixture
def crm(tmp_path, monkeypatch):
    path = create_demo_crm(tmp_path / "crm.sqlite3", people=10)
    monkeypatch.setenv("DSR_DEMO_CRM_URL", f"sqlite:///{path}")
    return path


def verified(session, request_type, form_data=None):
    request = make_request(session, datetime.now(UTC), request_type, email=ASHA.email)
    request.form_data = form_data or {}
    request.add_factor(Factor.MANUAL)
    transition(session, Actor.system("t"), datetime.now(UTC), request, Action.VERIFY)
    session.commit()
    return request


def test_staff_prepare_but_only_another_admin_approves(app, staff_client, admin_user, clock, session, crm):
    request = verified(session, RequestType.DELETION)
    page = f"/staff/requests/{request.reference}"
    html = staff_client.get(page).get_data(as_text=True)
    assert "Prepare the erasure plan" in html
    post_form(staff_client, page + "/erasure/prepare", {}, token_from=page)
    plan = session.scalar(select(ErasurePlan))
    html = staff_client.get(page).get_data(as_text=True)
    assert "What the plan does" in html and "legal obligation" in html and "Approve and erase" not in html
    approve = f"{page}/erasure/{plan.public_id}/approve"
    assert staff_client.post(approve, data={"csrf_token": csrf_token(staff_client, page)}).status_code == 403
    admin = app.test_client()
    admin_sign_in(admin, admin_user, clock)
    post_form(admin, approve, {}, token_from=page)
    session.expire_all()
    assert session.get(ErasurePlan, plan.id).status is PlanStatus.APPROVED
    assert "Erasing:" in admin.get(page).get_data(as_text=True)


def test_an_admin_cannot_approve_their_own_plan(app, admin_client, session, crm):
    request = verified(session, RequestType.DELETION)
    page = f"/staff/requests/{request.reference}"
    post_form(admin_client, page + "/erasure/prepare", {}, token_from=page)
    plan = session.scalar(select(ErasurePlan))
    html = admin_client.get(page).get_data(as_text=True)
    assert "another admin must approve it" in html
    response = post_form(admin_client, f"{page}/erasure/{plan.public_id}/approve", {}, token_from=page)
    assert "Someone other than the person who prepared" in admin_client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    session.expire_all()
    assert session.get(ErasurePlan, plan.id).status is PlanStatus.PREPARED


def test_correction_decided_and_written_from_the_page(staff_client, session, crm):
    request = verified(session, RequestType.CORRECTION, {"corrections": [{"field": "Town", "value": "Mysuru"}]})
    page = f"/staff/requests/{request.reference}"
    html = staff_client.get(page).get_data(as_text=True)
    assert "Proposed corrections" in html and "Town" in html and "crm › customers › city" in html
    item = session.scalar(select(CorrectionItem))
    item.public_id = item.public_id[:-1] + "_"  # random ids end so 1 time in 32: WTForms adds no dash then
    session.commit()
    prefix = f"c{item.public_id}"
    response = post_form(
        staff_client,
        f"{page}/corrections/{item.public_id}",
        {
            f"{prefix}-target": "crm › customers › city",
            f"{prefix}-value": "Mysuru",
            f"{prefix}-decision": "approve",
        },
        follow=True,
        token_from=page,
    )
    assert "Decision saved." in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(CorrectionItem, item.id).decision is Decision.APPROVED
    assert "Now in crm › customers › city" in staff_client.get(page).get_data(as_text=True)
    post_form(staff_client, f"{page}/corrections/apply", {}, token_from=page)
    engine = create_engine(f"sqlite:///{crm}")
    with engine.connect() as connection:
        city = connection.scalar(
            text("select city from customers where account_number = :a"), {"a": ASHA.account_number}
        )
    engine.dispose()
    assert city == "Mysuru"
    assert "Tell " in staff_client.get(page).get_data(as_text=True)  # recipients to inform

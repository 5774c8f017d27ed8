"""A deletion request in a real browser: staff prepare, an admin approves, progress, receipt by email."""

import re
from datetime import UTC, datetime

import pyotp
import pytest
from sqlalchemy import create_engine, text

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action
from dsr.domain.requests import RequestType
from dsr.domain.verification import Factor
from dsr.jobs.tasks import deliver_outbox, run_fulfilment
from dsr.models import Role
from dsr.services import users
from dsr.services.requests import transition
from dsr.sources.demo_crm import DEMO_PEOPLE, create_demo_crm
from tests.factories import PASSWORD, make_request, make_user

pytestmark = pytest.mark.browser
ASHA = DEMO_PEOPLE[0]


def sign_in(context, email: str, totp: pyotp.TOTP | None = None):
    tab = context.new_page()
    tab.goto("/auth/login")
    tab.get_by_label("Email").fill(email)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    if totp is not None:
        tab.get_by_label(re.compile("6-digit code")).fill(totp.now())
        tab.get_by_role("button", name="Continue").click()
    return tab


def test_staff_prepare_admin_approves_progress_and_receipt(
    delivering_app, page, browser, session, mailbox, tmp_path, monkeypatch, live_server
):
    crm = create_demo_crm(tmp_path / "crm.sqlite3", people=20)
    monkeypatch.setenv("DSR_DEMO_CRM_URL", f"sqlite:///{crm}")  # a private copy to erase from
    make_user(session, "sam@acme-crm.example", Role.STAFF, "Sam Staff")
    admin = make_user(session, "ada@acme-crm.example", Role.ADMIN, "Ada Admin")
    secret = users.start_totp_enrolment(admin, delivering_app.extensions["dsr_cipher"])
    admin.totp_enabled_at = datetime.now(UTC)
    request = make_request(session, datetime.now(UTC), RequestType.DELETION, email=ASHA.email)
    request.requester_phone = ASHA.phone
    request.add_factor(Factor.EMAIL)
    request.add_factor(Factor.SMS)
    transition(session, Actor.system("tests"), datetime.now(UTC), request, Action.VERIFY)
    session.commit()

    staff = sign_in(page.context, "sam@acme-crm.example")
    staff.get_by_role("link", name=request.reference).click()
    staff.get_by_role("button", name="Claim").click()
    staff.get_by_role("button", name="Prepare the erasure plan").click()
    assert staff.get_by_text("An admin other than you must approve it").is_visible()
    plan = staff.get_by_role("table", name=re.compile("What the plan does"))
    assert plan.get_by_text("Invoices").first.is_visible() and plan.get_by_text("legal obligation").first.is_visible()
    assert staff.get_by_role("button", name="Approve and erase").count() == 0  # staff cannot approve

    ada = sign_in(browser.new_context(base_url=live_server), "ada@acme-crm.example", pyotp.TOTP(secret))
    ada.goto(f"/staff/requests/{request.reference}")
    ada.get_by_role("button", name="Approve and erase").click()
    assert ada.get_by_text("The erasure runs in the background").is_visible()
    assert ada.locator("#erasure-progress").is_visible()
    ada.screenshot(path="test-artifacts/erasure-approved.png", full_page=True)

    run_fulfilment(delivering_app)
    staff.reload()
    assert staff.get_by_text("Plan done").is_visible()
    for note in ("Removed Asha from the events sheet.", "The payment processor confirmed by phone."):
        staff.get_by_label("What you found or did").first.fill(note)
        staff.get_by_role("button", name="Confirm task").first.click()
    staff.get_by_role("link", name="Complete").click()
    staff.get_by_role("button", name="Send").click()
    assert staff.get_by_text("Request completed").is_visible()

    deliver_outbox(delivering_app)
    receipt = next(m for m in mailbox.messages if "Erasure receipt" in m["Subject"])
    body = next(p.get_content() for p in receipt.walk() if p.get_content_type() == "text/plain")
    assert "What we erased:" in body and "What we kept, and why:" in body and ASHA.email not in body
    engine = create_engine(f"sqlite:///{crm}")
    with engine.connect() as connection:
        left = connection.execute(
            text("select email, full_name from customers where account_number = :a"), {"a": ASHA.account_number}
        ).one()
    engine.dispose()
    assert ASHA.email not in str(left) and ASHA.full_name not in str(left)

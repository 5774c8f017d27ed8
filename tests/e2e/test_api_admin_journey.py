"""An admin gives the support desk an API key and the marketing platform a webhook, in a real browser."""

import json
import re
import urllib.request
from datetime import timedelta

import pytest
from sqlalchemy import select

from dsr.models import DataSubjectRequest, WebhookSubscriber
from dsr.notify.delivery import deliver_due
from dsr.notify.mailers import ConsoleMailer
from dsr.notify.sms import ConsoleSms
from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD
from tests.web.conftest import ADMIN_EMAIL, admin_user  # noqa: F401

pytestmark = pytest.mark.browser


def sign_in_as_admin(page, admin_user, clock):  # noqa: F811
    clock.advance(seconds=30)
    page.goto("/auth/login")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label(re.compile("6-digit code")).fill(admin_user.totp.at(clock()))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/(staff|admin)/$"))


def api_post(base: str, key: str, body: dict) -> dict:
    call = urllib.request.Request(  # noqa: S310 (loopback, http)
        f"{base}/api/v1/requests",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(call, timeout=10) as response:  # noqa: S310 (loopback)
        return json.loads(response.read())


def test_admin_creates_a_key_a_subscriber_and_reads_the_delivery_log(page, live_server, admin_user, clock, session):  # noqa: F811
    sign_in_as_admin(page, admin_user, clock)
    page.goto("/admin/")
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("Support desk (Zendesk)")
    page.get_by_label(re.compile("^requests:write")).check()
    page.get_by_label(re.compile("^requests:read")).check()
    page.get_by_role("button", name="Create key").click()
    key = page.locator("#new-api-key").inner_text()
    assert key.startswith("dsr_")
    page.screenshot(path=str(ARTIFACTS / "admin_api_key_created.png"), full_page=True)

    page.get_by_role("link", name="← Admin").click()
    page.get_by_role("link", name="Webhooks").click()
    page.get_by_label("Name").fill("Marketing platform")
    page.get_by_label("Address").fill("http://127.0.0.1:9/unreachable")
    page.get_by_label(re.compile("^request.status_changed")).check()
    page.get_by_role("button", name="Add subscriber").click()
    assert page.locator("#new-webhook-secret").inner_text().startswith("whsec_")

    created = api_post(live_server, key, {"type": "access", "requester": {"name": "Ada", "email": "ada@example.org"}})
    filed = session.scalar(select(DataSubjectRequest).where(DataSubjectRequest.reference == created["reference"]))
    assert filed.source == "api"
    page.goto("/staff/")
    assert page.get_by_text("via API").is_visible()
    page.goto(f"/staff/requests/{filed.reference}")
    assert page.get_by_text("filed through the API").is_visible()
    page.screenshot(path=str(ARTIFACTS / "staff_request_via_api.png"), full_page=True)

    # A status change to an address nobody answers: the log shows the attempt and the retry.
    page.get_by_role("link", name="Reject").click()
    page.get_by_label("Reason").select_option("duplicate")
    page.get_by_role("button", name="Reject and send the letter").click()
    page.get_by_text("Rejected").first.wait_for()
    deliver_due(session, clock() + timedelta(seconds=1), ConsoleMailer(), ConsoleSms())
    session.commit()
    subscriber = session.scalar(select(WebhookSubscriber))
    page.goto(f"/admin/webhooks/{subscriber.public_id}")
    page.get_by_role("cell", name="request.status_changed").first.wait_for()
    assert page.get_by_text("cannot reach the webhook").first.is_visible()
    page.screenshot(path=str(ARTIFACTS / "admin_webhook_delivery_log.png"), full_page=True)
    page.goto("/admin/webhooks")
    page.screenshot(path=str(ARTIFACTS / "admin_webhooks.png"), full_page=True)

    page.goto("/admin/api-keys")
    page.get_by_role("button", name="Revoke Support desk (Zendesk)").click()
    assert page.get_by_text("calls with it are refused from now on").is_visible()
    page.screenshot(path=str(ARTIFACTS / "admin_api_key_revoked.png"), full_page=True)

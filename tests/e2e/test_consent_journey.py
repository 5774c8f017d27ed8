"""A person withdraws marketing consent through the form and through an unsubscribe link, sees their
privacy choices and changes one; staff see the same on the person's page and lift an objection."""

import re

import pytest

from dsr.domain.requests import RequestType
from dsr.domain.verification import Factor
from dsr.jobs.tasks import deliver_outbox
from dsr.models import Role
from dsr.services import casework, consent
from dsr.services.bundles import BundlePolicy
from dsr.services.users import actor_for
from dsr.services.verification import record_factor
from dsr.sources.demo_crm import ASHA
from dsr.web.consent import consent_setup
from dsr.web.public.unsubscribe import unsubscribe_url
from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD, code_in, make_user
from tests.services.consent_fixtures import LINKS, crm_statuses, file_request, make_crm

pytestmark = pytest.mark.browser
PHONE_SCREEN = {"width": 390, "height": 844}


def mail_text(message) -> str:
    return next(part.get_content() for part in message.walk() if part.get_content_type() == "text/plain")


def snap(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"consent-{name}.png"), full_page=True)


@pytest.fixture
def crm(tmp_path, monkeypatch):
    path = make_crm(tmp_path)
    monkeypatch.setenv("DSR_DEMO_CRM_URL", f"sqlite:///{path}")
    return path


def choice(page, topic: str):
    return page.get_by_role("group", name=topic)


def test_person_withdraws_by_form_and_by_unsubscribe_link_and_sees_their_choices(
    delivering_app, page, session, mailbox, crm
):
    page.goto("/request?type=consent_withdrawal")
    page.get_by_label("Marketing text messages (SMS)").check()
    page.get_by_label("Your full name").fill(ASHA.full_name)
    page.get_by_label("Your email address").fill(ASHA.email)
    page.get_by_label("I have read the privacy notice").check()
    page.get_by_role("button", name="Send request").click()
    page.get_by_role("heading", name="Confirm it is you").wait_for()
    deliver_outbox(delivering_app)
    (message,) = [m for m in mailbox.messages if m["To"] == ASHA.email]
    page.get_by_label("6-digit code").fill(code_in(mail_text(message)))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_text("your withdrawal has taken effect").wait_for()
    assert crm_statuses(crm, ASHA.email, ASHA.phone)["sms"] == "withdrawn"  # at once, in the CRM
    status_url = page.url

    # A marketing email from the organisation carries a one-click link.
    page.goto(unsubscribe_url(ASHA.email, "marketing_email", "<news-2026-05@acme-crm.example>"))
    page.get_by_role("heading", name="Unsubscribe from marketing emails").wait_for()
    snap(page, "unsubscribe-confirm")
    page.get_by_role("button", name="Unsubscribe").click()
    page.get_by_role("heading", name="You are unsubscribed").wait_for()
    snap(page, "unsubscribe-done")
    assert crm_statuses(crm, ASHA.email, ASHA.phone) == {
        "email": "withdrawn",
        "sms": "withdrawn",
        "whatsapp": "granted",
        "phone": "granted",
    }

    page.set_viewport_size(PHONE_SCREEN)
    page.goto(status_url)
    page.get_by_role("link", name="privacy choices").click()
    page.get_by_role("heading", name="Your privacy choices").wait_for()
    assert (
        choice(page, "Marketing emails").get_by_text(re.compile(r"Not allowed since .* \(unsubscribe link\)")).count()
    )
    assert (
        choice(page, "Marketing text messages (SMS)").get_by_text(re.compile(r"Not allowed since .* \(form\)")).count()
    )
    assert choice(page, "Marketing emails").get_by_label("Don't allow").is_checked()
    assert choice(page, "Analytics cookies").get_by_text("You have not told us yet.").is_visible()
    snap(page, "preferences-phone")

    choice(page, "Marketing emails").get_by_label("Allow", exact=True).check()
    page.get_by_role("button", name="Save my choices").click()
    page.get_by_text("Saved. 1 choice changed.").wait_for()
    assert choice(page, "Marketing emails").get_by_text(re.compile(r"^\s*Allowed since .* \(form\)")).count()
    assert crm_statuses(crm, ASHA.email, ASHA.phone)["email"] == "granted"


def test_staff_see_the_persons_consents_and_lift_an_objection(delivering_app, page, session, crm):
    sam = make_user(session, "sam@acme-crm.example", Role.STAFF, "Sam Staff")
    request = file_request(session, RequestType.OBJECTION, ASHA.email, {"purposes": ["product_analytics"]})
    record_factor(session, actor_for(sam), request.received_at, request, Factor.EMAIL)
    setup, moment = consent_setup(), request.received_at
    casework.complete(session, actor_for(sam), moment, request, "Done", "Stopped.", LINKS, BundlePolicy(), setup)
    consent.unsubscribe(session, moment, setup, ASHA.email, "marketing_email", "<news@acme-crm.example>")
    session.commit()

    page.goto("/auth/login")
    page.get_by_label("Email").fill(sam.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/staff/requests/{request.reference}")
    page.get_by_role("link", name="Consents, restrictions and objections").click()
    page.get_by_role("heading", name="Consents and limits on processing").wait_for()
    assert page.get_by_text(ASHA.email).first.is_visible()
    snap(page, "person")
    page.get_by_text("Lift this objection").click()
    page.get_by_label("Why it is lifted").fill("The person asked us to resume product analytics.")
    page.get_by_role("button", name="Lift").click()
    page.get_by_text("Lifted. Other systems are being told.").wait_for()
    assert page.get_by_text("None in force.").is_visible()
    page.set_viewport_size(PHONE_SCREEN)
    snap(page, "person-phone")

"""A person files each kind of request, proves who they are with real email (and SMS), sees the status."""

import re

import pytest

from dsr.jobs.tasks import deliver_outbox
from tests.factories import code_in

pytestmark = pytest.mark.browser

PHONE = "+44 7700 900123"
# What each type asks for beyond the common fields, and whether an SMS code follows the email code.
JOURNEYS = {
    "access": ({}, True),
    "portability": ({}, True),
    "correction": ({"What is wrong": "Postal address", "What it should say": "1 New Street, Leeds"}, True),
    "deletion": ({}, True),
    "consent_withdrawal": ({"Marketing text messages (SMS)": True}, False),
    "restriction": ({"Marketing and promotions": True}, True),
    "objection": ({"Product analytics and improvement": True}, False),
}


def mail_text(message) -> str:
    return next(part.get_content() for part in message.walk() if part.get_content_type() == "text/plain")


@pytest.mark.parametrize("request_type", list(JOURNEYS))
def test_person_files_verifies_and_sees_status(delivering_app, page, mailbox, sms_provider, request_type):
    extra, needs_sms = JOURNEYS[request_type]
    email = f"{request_type}@example.org"
    page.goto("/")
    page.get_by_role("link", name="Make a request").click()
    page.get_by_role(
        "radio",
        name=re.compile(
            r"^"
            + {
                "access": "Access my data",
                "portability": "Get my data",
                "correction": "Correct my data",
                "deletion": "Delete my data",
                "consent_withdrawal": "Withdraw consent",
                "restriction": "Restrict processing",
                "objection": "Object to processing",
            }[request_type]
        ),
    ).check()
    for label, value in extra.items():
        if value is True:
            page.get_by_label(label).check()
        else:
            page.get_by_label(label).first.fill(value)
    page.get_by_label("Your full name").fill("Ada Lovelace")
    page.get_by_label("Your email address").fill(email)
    if needs_sms:
        page.get_by_label("Mobile phone number").fill(PHONE)
    page.get_by_label("Where do you live?").select_option("eu_gdpr")
    page.get_by_label("I have read the privacy notice").check()
    page.get_by_role("button", name="Send request").click()

    page.get_by_role("heading", name="Confirm it is you").wait_for()
    reference = page.locator(".reference").first.inner_text()
    assert re.fullmatch(r"DSR-\d{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", reference)
    deliver_outbox(delivering_app)
    (message,) = [m for m in mailbox.messages if m["To"] == email]
    assert reference in message["Subject"]
    page.get_by_label("6-digit code").fill(code_in(mail_text(message)))
    page.get_by_role("button", name="Confirm").click()

    if needs_sms:
        page.get_by_text("we have texted a 6-digit code").wait_for()
        deliver_outbox(delivering_app)
        (sms,) = sms_provider.messages
        assert sms["to"] == PHONE.replace(" ", "")
        page.get_by_label("6-digit code").fill(code_in(sms["body"]))
        page.get_by_role("button", name="Confirm").click()

    page.get_by_role("heading", name=f"Your request {reference}").wait_for()
    deliver_outbox(delivering_app)
    if request_type == "consent_withdrawal":  # it takes effect at once: completed, with a confirmation
        assert page.get_by_text("your withdrawal has taken effect").is_visible()
        assert page.get_by_text("Your request is complete.").is_visible()
        assert page.get_by_text("We have recorded your withdrawal of consent").is_visible()
        confirmation = [m for m in mailbox.messages if m["To"] == email and "is complete" in m["Subject"]]
        assert len(confirmation) == 1
        return
    assert page.get_by_text("Your identity is confirmed. Your request is in our queue.").is_visible()
    assert page.get_by_text("We will answer by", exact=True).is_visible()
    assert page.get_by_text("Thank you for confirming your identity").is_visible()
    confirmation = [m for m in mailbox.messages if m["To"] == email and "confirmed" in m["Subject"]]
    assert len(confirmation) == 1

"""Staff work a request end to end while the requester answers from their status page."""

import re
from datetime import UTC, datetime

import pytest

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action
from dsr.jobs.tasks import deliver_outbox, run_fulfilment
from dsr.models import Role
from dsr.services.requests import transition
from tests.factories import PASSWORD, make_request, make_user
from tests.web.test_status_page import relative

pytestmark = pytest.mark.browser


def mail_text(message) -> str:
    return next(part.get_content() for part in message.walk() if part.get_content_type() == "text/plain")


def test_staff_ask_requester_replies_staff_extend_and_complete(delivering_app, page, browser, session, mailbox):
    sam = make_user(session, "sam@acme-crm.example", Role.STAFF, "Sam Staff")
    mine = make_request(session, datetime.now(UTC), jurisdiction="uk_gdpr", email="ada@example.org")
    other = make_request(session, datetime.now(UTC), email="bob@example.org")
    for request in (mine, other):
        transition(session, Actor.system("tests"), datetime.now(UTC), request, Action.VERIFY)
    mine.assignee = sam
    session.commit()

    page.goto("/auth/login")
    page.get_by_label("Email").fill(sam.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Assignee").select_option("mine")
    page.get_by_role("button", name="Filter").click()
    assert page.get_by_role("link", name=mine.reference).is_visible()
    assert page.get_by_role("link", name=other.reference).count() == 0
    page.get_by_role("link", name=mine.reference).click()

    page.get_by_role("link", name="Ask for information").click()
    letter = page.get_by_label("Letter")
    assert "To handle your request" in letter.input_value()
    letter.fill(letter.input_value().replace("[say what you need]", "Which account number is yours?"))
    page.get_by_role("button", name="Send").click()
    assert page.get_by_text("The request now waits for the requester").is_visible()
    assert page.get_by_text("Awaiting requester").first.is_visible()

    deliver_outbox(delivering_app)
    (to_ada,) = [m for m in mailbox.messages if m["To"] == "ada@example.org"]
    status_link = re.search(r"https?://\S+/status/\S+", mail_text(to_ada)).group(0)
    requester = browser.new_context(base_url=page.url.split("/staff")[0]).new_page()
    requester.goto(relative(status_link))
    assert requester.get_by_text("Which account number is yours?").is_visible()
    requester.get_by_label("Your message").fill("It is ACC-1234.")
    requester.get_by_role("button", name="Send", exact=True).click()
    assert requester.get_by_text("Your message has been added").is_visible()

    page.reload()
    assert page.get_by_text("It is ACC-1234.").is_visible()
    assert page.get_by_text("Clock resumed").is_visible()
    page.get_by_role("link", name="Extend").click()
    page.get_by_label("Why more time is needed").fill("we must search twelve archived systems")
    page.get_by_role("button", name="Extend and notify the requester").click()
    assert page.get_by_text("Deadline extended; the requester has been told.").is_visible()

    page.get_by_role("button", name="Build the data bundle").click()
    assert page.locator("progress").is_visible()  # queued: the page refreshes itself
    run_fulfilment(delivering_app)
    page.reload()
    page.get_by_label("What you found or did").fill("Nothing about Ada in the events sheet.")
    page.get_by_role("button", name="Confirm task").click()
    assert page.get_by_text("Task confirmed.").is_visible()
    run_fulfilment(delivering_app)  # the rebuild that takes in the manual finding
    page.reload()
    page.get_by_role("link", name="Complete").click()
    page.get_by_role("button", name="Send").click()
    assert page.get_by_text("Request completed").is_visible()
    timeline = page.locator(".timeline").inner_text()
    for step in (
        "Asked the requester for more information",
        "Clock paused",
        "Reply from the requester",
        "Clock resumed",
        "Deadline extended",
        "Data bundle built",
        "Manual task confirmed",
        "Bundle released to the requester",
        "Letter to the requester",
        "Completed",
    ):
        assert step in timeline, step
    assert "we must search twelve archived systems" in timeline
    requester.reload()
    assert requester.get_by_text("Your request is complete.").is_visible()

"""An access request from a demo person, from the form to a downloaded ZIP, in a real browser."""

import json
import re
import zipfile

import pytest

from dsr.jobs.tasks import deliver_outbox, run_fulfilment
from dsr.models import Role
from dsr.sources.demo_crm import DEMO_PEOPLE
from tests.factories import PASSWORD, code_in, make_user

pytestmark = pytest.mark.browser
ASHA = DEMO_PEOPLE[0]


def mail_text(message) -> str:
    return next(part.get_content() for part in message.walk() if part.get_content_type() == "text/plain")


def latest_mail(mailbox, subject_part: str) -> str:
    return mail_text([m for m in mailbox.messages if subject_part in m["Subject"]][-1])


def test_demo_person_gets_a_zip_with_exactly_their_data(
    delivering_app, page, browser, session, mailbox, sms_provider, tmp_path
):
    make_user(session, "sam@acme-crm.example", Role.STAFF, "Sam Staff")
    # The requester files and verifies (email code, then SMS code).
    page.goto("/request?type=access")
    page.get_by_label("Your full name").fill(ASHA.full_name)
    page.get_by_label("Your email address").fill(ASHA.email)
    page.get_by_label("Mobile phone number").fill(ASHA.phone)
    page.get_by_label("I have read the privacy notice").check()
    page.get_by_role("button", name="Send request").click()
    reference = page.locator(".reference").first.inner_text()
    deliver_outbox(delivering_app)
    page.get_by_label("6-digit code").fill(code_in(latest_mail(mailbox, "Your code")))
    page.get_by_role("button", name="Confirm").click()
    deliver_outbox(delivering_app)
    page.get_by_label("6-digit code").fill(code_in(sms_provider.messages[-1]["body"]))
    page.get_by_role("button", name="Confirm").click()
    page.get_by_role("heading", name=f"Your request {reference}").wait_for()

    # Staff build the bundle, confirm the manual system, and complete.
    staff = browser.new_context(base_url=page.url.split("/my-request")[0]).new_page()
    staff.goto("/auth/login")
    staff.get_by_label("Email").fill("sam@acme-crm.example")
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Sign in").click()
    staff.get_by_role("link", name=reference).click()
    staff.get_by_role("button", name="Claim").click()
    staff.get_by_role("button", name="Build the data bundle").click()
    staff.get_by_label("What you found or did").fill("No events found for Asha in the events sheet.")
    staff.get_by_role("button", name="Confirm task").click()
    run_fulfilment(delivering_app)
    staff.reload()
    assert staff.get_by_text(f"{sum(ASHA.rows.values())} rows from").is_visible()
    staff.get_by_role("link", name="Complete").click()
    staff.get_by_role("button", name="Send").click()
    assert staff.get_by_text("Request completed").is_visible()

    # The requester downloads it with a fresh code.
    page.reload()
    assert page.get_by_role("heading", name="Your data").is_visible()
    page.get_by_role("button", name="Email me a download code").click()
    deliver_outbox(delivering_app)
    page.get_by_label("Download code").fill(code_in(latest_mail(mailbox, "download code")))
    with page.expect_download() as download:
        page.get_by_role("button", name="Download my data").click()
    saved = tmp_path / "bundle.zip"
    download.value.save_as(saved)

    archive = zipfile.ZipFile(saved)
    data = json.loads(archive.read("data.json"))
    text = json.dumps(data)
    assert ASHA.email in text and "No events found for Asha" in text
    for other in DEMO_PEOPLE[1:]:
        assert other.email not in text and other.full_name not in text
    counts = json.loads(archive.read("manifest.json"))["row_counts"]
    assert {table: n for table, n in counts.items() if n} == {f"crm/{t}": n for t, n in ASHA.rows.items() if n}
    assert all(n > 0 for t, n in ASHA.rows.items()), "Asha has rows in every demo table"

    archive.extractall(tmp_path / "bundle")
    report = browser.new_context().new_page()
    report.goto((tmp_path / "bundle" / "index.html").as_uri())
    assert report.get_by_role("heading", name=re.compile("What we found")).is_visible()
    assert report.get_by_text(ASHA.full_name).first.is_visible()
    report.screenshot(path=str(tmp_path.parent / "bundle-report.png"), full_page=True)
    report.screenshot(path="test-artifacts/bundle-report.png", full_page=True)

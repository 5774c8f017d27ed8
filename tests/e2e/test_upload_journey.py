"""Staff ask for an identity document; the requester attaches it to a reply; staff download it."""

from datetime import UTC, datetime

import pytest

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action
from dsr.models import Role
from dsr.services.requests import transition
from dsr.web.public.requester import status_token
from tests.conftest import ARTIFACTS
from tests.factories import PASSWORD, make_request, make_user
from tests.web.test_attachments import PDF, PNG

pytestmark = pytest.mark.browser


def test_requester_attaches_an_id_document_and_staff_download_it(page, browser, live_server, session, tmp_path):
    sam = make_user(session, "sam@acme-crm.example", Role.STAFF, "Sam Staff")
    request = make_request(session, datetime.now(UTC), jurisdiction="uk_gdpr", email="ada@example.org")
    for action in (Action.VERIFY, Action.REQUEST_INFO):
        transition(session, Actor.system("tests"), datetime.now(UTC), request, action)
    session.commit()
    (tmp_path / "passport scan.pdf").write_bytes(PDF)
    (tmp_path / "selfie.png").write_bytes(PNG)
    (tmp_path / "fake.png").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>")

    requester = browser.new_context(base_url=live_server).new_page()
    requester.goto(f"/status/{status_token(request)}")
    assert requester.get_by_text("We need more information from you").is_visible()

    requester.get_by_label("Your message").fill("Here is my passport, as you asked.")
    requester.get_by_label("Attach files (optional)").set_input_files([tmp_path / "fake.png"])
    requester.get_by_role("button", name="Send", exact=True).click()
    assert requester.locator("#attachments-error").inner_text().startswith("“fake.png” is not a PDF, PNG or JPEG")
    assert requester.get_by_label("Your message").input_value() == "Here is my passport, as you asked."

    files = [tmp_path / "passport scan.pdf", tmp_path / "selfie.png"]
    requester.get_by_label("Attach files (optional)").set_input_files(files)
    requester.get_by_role("button", name="Send", exact=True).click()
    assert requester.get_by_text("with 2 files").is_visible()
    assert requester.get_by_text("passport scan.pdf").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    requester.screenshot(path=str(ARTIFACTS / "status_page_with_attachment.png"), full_page=True)

    page.goto("/auth/login")
    page.get_by_label("Email").fill(sam.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"/staff/requests/{request.reference}")
    timeline = page.locator(".timeline")
    assert "Here is my passport" in timeline.inner_text()
    with page.expect_download() as download:
        timeline.get_by_role("link", name="passport scan.pdf").click()
    assert download.value.suggested_filename == "passport scan.pdf"
    assert download.value.path().read_bytes() == PDF
    page.locator(".timeline .attachments").last.scroll_into_view_if_needed()

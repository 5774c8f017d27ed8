"""A newcomer's first sign-in as the demo admin, in a real browser."""

import re

import pyotp
import pytest

from dsr.cli import DEMO_ADMIN_EMAIL

pytestmark = pytest.mark.browser


def test_demo_admin_signs_in_enrols_totp_and_reaches_admin(app, page, session):
    output = app.test_cli_runner().invoke(args=["dsr", "demo"]).output
    password = re.search(r"password: (\S+)\s+\(shown once", output).group(1)

    page.goto("/staff/")
    assert "Staff sign-in" in page.title()
    page.get_by_label("Email").fill(DEMO_ADMIN_EMAIL)
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_text("do not match an active account").is_visible()
    assert page.get_by_label("Email").input_value() == DEMO_ADMIN_EMAIL

    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Set up your authenticator").wait_for()
    qr = page.get_by_role("img", name=re.compile("QR code"))
    assert qr.evaluate("img => img.naturalWidth") > 0, "the QR code image must load under the CSP"
    secret = page.locator("#totp-secret").inner_text()
    page.get_by_label(re.compile("6-digit code")).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Continue").click()

    page.get_by_role("heading", name="Request queue").wait_for()  # `next` brought us back to the queue
    assert page.get_by_text("Signed in as Demo Admin").is_visible()
    page.get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Legal clock rules").click()
    assert page.get_by_role("cell", name="45 days").first.is_visible()
    page.get_by_role("button", name=re.compile("Sign out")).click()
    assert page.get_by_text("You have signed out.").is_visible()

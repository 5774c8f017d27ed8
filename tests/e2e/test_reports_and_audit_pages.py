"""Admin → Reports and Audit log in a real browser: charts load under the CSP, pages fit a phone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dsr.domain.lifecycle import Status
from dsr.domain.requests import RequestType
from dsr.models import Role
from tests.e2e.test_phone_layout import OVERFLOW
from tests.factories import PASSWORD, make_user
from tests.services.report_fixtures import seed

pytestmark = pytest.mark.browser
# Wide charts and tables scroll sideways inside their own box; the page itself must not.
INSIDE_SCREEN = OVERFLOW.replace(
    "'.visually-hidden, .stack thead'", "'.visually-hidden, .stack thead, .chart-wrap, .table-wrap'"
)


@pytest.fixture
def signed_in_admin(app, page, session, monkeypatch):
    monkeypatch.setitem(app.config, "DSR_ADMIN_TOTP_REQUIRED", False)  # TOTP has its own browser test
    make_user(session, "ada@acme-crm.example", Role.ADMIN, "Ada Admin")
    page.goto("/auth/login")
    page.get_by_label("Email").fill("ada@acme-crm.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Signed in as Ada Admin").wait_for()
    return page


def some_history(session) -> None:
    now = datetime.now(UTC)
    types = list(RequestType)
    for n in range(40):
        received = now - timedelta(days=3 * n + 1)
        closed = received + timedelta(days=5 + n % 20) if n % 3 else None
        status = (Status.COMPLETED if n % 5 else Status.REJECTED) if closed else Status.IN_PROGRESS
        due = (received + timedelta(days=30)).date() if n % 4 else date.today() - timedelta(days=2)
        seed(
            session,
            types[n % len(types)],
            received,
            status,
            closed,
            due=due,
            jurisdiction=["eu_gdpr", "us_ca_ccpa", "in_dpdp"][n % 3],
        )


@pytest.mark.parametrize("width", [1280, 390])
def test_reports_and_audit_log_render_and_fit_the_screen(signed_in_admin, session, width):
    page = signed_in_admin
    some_history(session)
    page.set_viewport_size({"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto("/admin/reports")
    chart = page.get_by_role("img", name="Requests received per week, by type")
    assert chart.is_visible() and chart.bounding_box()["height"] > 100
    page.get_by_text("Table: requests received per week, by type").click()
    assert page.get_by_role("table", name="Requests received per week (weeks start on Monday)").is_visible()
    assert page.evaluate(INSIDE_SCREEN) == []
    page.screenshot(path=f"test-artifacts/reports-{width}.png", full_page=True)
    page.goto("/admin/audit")
    page.get_by_role("button", name="Verify now").click()
    assert page.get_by_text("The audit trail is intact").is_visible()
    assert page.evaluate(INSIDE_SCREEN) == []
    page.screenshot(path=f"test-artifacts/audit-{width}.png", full_page=True)
    assert errors == []  # e.g. CSP violations

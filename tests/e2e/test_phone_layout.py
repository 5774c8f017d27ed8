"""Staff pages fit a phone screen: nothing wider than the viewport (tables become cards)."""

from datetime import UTC, datetime

import pytest

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action
from dsr.models import Role
from dsr.services.requests import transition
from tests.factories import PASSWORD, make_request, make_user

pytestmark = pytest.mark.browser
OVERFLOW = """() => { const w = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')]
    .filter(e => !e.closest('.visually-hidden, .stack thead'))  // clipped away for screen readers only
    .filter(e => e.getBoundingClientRect().right > w + 1)
    .map(e => e.tagName + '.' + e.className); }"""


def test_queue_and_request_pages_fit_a_phone(delivering_app, page, session):
    make_user(session, "sam@acme-crm.example", Role.STAFF, "Sam Staff")
    request = make_request(session, datetime.now(UTC), email="a.very.long.email.address@example.org")
    transition(session, Actor.system("tests"), datetime.now(UTC), request, Action.VERIFY)
    session.commit()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto("/auth/login")
    page.get_by_label("Email").fill("sam@acme-crm.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    for path in (
        "/staff/",
        f"/staff/requests/{request.reference}",
        "/request",
        f"/staff/requests/{request.reference}/reject",
    ):
        page.goto(path)
        assert page.evaluate(OVERFLOW) == [], path

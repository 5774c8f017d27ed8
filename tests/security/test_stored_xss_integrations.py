"""Stored XSS, continued (test_stored_xss.py covers requesters' and staff's fields): what an admin types
about other systems — an API key's name, a webhook subscriber's name and address — and every page that
shows it again: the key and webhook pages (with their flash messages and re-rendered forms), the "who" of
what the key did (the staff request page's timeline, the audit log) and the outbox rows of deliveries.

The flow runs once through the real forms and the real API (module-scoped); each test reads its pages.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action
from dsr.extensions import db, limiter
from dsr.models import ApiKey, DataSubjectRequest, OutboxMessage, WebhookSubscriber
from dsr.services.requests import transition
from tests.conftest import empty_database
from tests.security.conftest import assert_strict_csp, make_admin, payload, post, read_html, sign_in_admin
from tests.security.routes import ROUTES
from tests.web.api_support import ACCESS_REQUEST, bearer

KEY_NAME = payload("KEYNAME")
HOOK_NAME = payload("HOOKNAME")
HOOK_URL = 'https://hooks.example/in"><script>alert(1)</script><img/src=x/onerror=alert(1)>{{7*7}}'  # no spaces
EVERY_VALUE = {"KEYNAME": KEY_NAME, "HOOKNAME": HOOK_NAME, "hooks.example": HOOK_URL}


@pytest.fixture(scope="module")
def pages(app) -> dict[str, object]:
    """Page name -> the response, for every page the flow below made or visited."""
    with app.app_context():
        empty_database()
        limiter.reset()
        try:
            yield fill_and_visit(app)
        finally:
            db.session.rollback()
            empty_database()
    limiter.reset()


def fill_and_visit(app) -> dict[str, object]:
    session, seen = db.session, {}
    user, totp = make_admin(session)
    admin = sign_in_admin(app, user.email, totp)

    scopes = {"scopes": ["requests:write", "requests:read"]}
    seen["API key created"] = post(admin, "/admin/api-keys", {"name": KEY_NAME, **scopes})
    secret = re.search(r'id="new-api-key">([^<]+)<', seen["API key created"].get_data(as_text=True)).group(1)
    seen["API key form, re-rendered"] = post(admin, "/admin/api-keys", {"name": KEY_NAME})  # no scope chosen
    filed = app.test_client().post("/api/v1/requests", json=ACCESS_REQUEST, headers=bearer(secret))
    assert filed.status_code == 201, filed.json  # the audit trail names the key as who filed it

    hook = {"name": HOOK_NAME, "url": HOOK_URL, "events": "request.status_changed", "active": "y"}
    seen["webhook added"] = post(admin, "/admin/webhooks", {**hook, "secret_choice": "generate"})
    seen["webhook form, re-rendered"] = post(admin, "/admin/webhooks", {**hook, "events": ""})
    subscriber = session.scalar(select(WebhookSubscriber))
    assert subscriber is not None and (subscriber.name, subscriber.url) == (HOOK_NAME, HOOK_URL)
    page = f"/admin/webhooks/{subscriber.public_id}"
    seen["webhook settings, re-rendered"] = post(admin, page, {**hook, "events": ""})

    request = session.scalar(select(DataSubjectRequest))
    transition(session, Actor.system("tests"), request.received_at, request, Action.VERIFY)  # queues a delivery
    session.commit()
    delivery = session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == HOOK_URL))
    assert delivery is not None, "verifying the request should queue a webhook delivery to the subscriber"
    key = session.scalar(select(ApiKey))
    post(admin, f"/admin/api-keys/{key.public_id}/revoke", {}, token_from="/admin/api-keys")
    seen["API keys, after revoking (flash)"] = admin.get("/admin/api-keys")

    for name, path in [
        ("webhook page", page),
        ("staff request page", f"/staff/requests/{request.reference}"),
        ("outbox message", f"/admin/outbox/{delivery.public_id}"),
    ]:
        seen[name] = admin.get(path)
    for route in ROUTES:  # every staff and admin page without arguments: lists, audit log, outbox…
        if route.area in ("staff", "admin") and route.method == "GET" and not route.arguments:
            response = admin.get(route.rule)
            if response.mimetype == "text/html":
                seen[f"page {route.rule}"] = response
    return seen


# Where each value must be shown, as typed.
SHOWN = {
    "API key created": [KEY_NAME],
    "API key form, re-rendered": [KEY_NAME],
    "API keys, after revoking (flash)": [KEY_NAME],
    "page /admin/api-keys": [KEY_NAME],
    "staff request page": [KEY_NAME],  # the timeline: "API key <name> (dsr_…)" filed it
    "page /admin/audit": [KEY_NAME],
    "webhook added": [HOOK_NAME, HOOK_URL],
    "webhook form, re-rendered": [HOOK_NAME, HOOK_URL],
    "webhook settings, re-rendered": [HOOK_NAME, HOOK_URL],
    "webhook page": [HOOK_NAME, HOOK_URL],
    "page /admin/webhooks": [HOOK_NAME, HOOK_URL],
    "page /admin/outbox": [HOOK_URL],
    "outbox message": [HOOK_URL],
}


def test_every_page_shows_the_names_and_the_address_as_text(pages):
    problems = []
    for name, response in pages.items():
        assert response.status_code == 200, f"{name}: {response.status_code}"
        executable, shown = read_html(response.get_data(as_text=True))
        problems += [f"{name}: {found}" for found in executable]
        problems += [f"{name}: {text[:16]}… not shown as typed" for text in SHOWN.get(name, []) if text not in shown]
    assert problems == []


def test_any_other_page_that_shows_a_value_shows_all_of_it_as_text(pages):
    """A page not listed above (one added later, say) that shows part of a value must show it whole."""
    for name, response in pages.items():
        _, shown = read_html(response.get_data(as_text=True))
        for marker, value in EVERY_VALUE.items():
            if marker in shown:
                assert value in shown, f"{name} shows {marker} but not as typed"


def test_every_page_listed_was_visited_and_forbids_inline_script(pages):
    assert set(SHOWN) <= set(pages)
    source = Path(__file__).read_text()
    assert set(re.findall(r'payload\("([A-Z]+)"\)', source)) <= set(EVERY_VALUE)
    for response in pages.values():
        assert_strict_csp(response)

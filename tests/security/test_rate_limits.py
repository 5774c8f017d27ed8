"""Rate limits hold on every door a guesser or a flood would use, and say so in the caller's language:
an HTML page for people, JSON for programs (/api/, /hooks/). A forged X-Forwarded-For buys nothing."""

from __future__ import annotations

import pytest

from dsr import create_app
from dsr.extensions import limiter
from tests.security.routes import ROUTES
from tests.web.conftest import csrf_token
from tests.web.test_attachments import awaiting
from tests.web.test_verification_flow import file


def flood(client, method: str, path: str, times: int, **kwargs) -> list:
    return [client.open(path, method=method, **kwargs) for _ in range(times)]


def assert_limited_page(responses, allowed: int) -> None:
    assert 429 not in [r.status_code for r in responses[:allowed]]
    refused = responses[allowed]
    assert refused.status_code == 429 and refused.mimetype == "text/html"
    assert "Too many attempts" in refused.get_data(as_text=True)
    assert refused.headers.get("Retry-After") and "script-src 'self'" in refused.headers["Content-Security-Policy"]


def assert_limited_json(responses, allowed: int) -> None:
    assert 429 not in [r.status_code for r in responses[:allowed]]
    refused = responses[allowed]
    assert refused.status_code == 429 and refused.is_json, refused.mimetype
    assert refused.get_json()["status"] == 429 and refused.headers.get("Retry-After")


@pytest.mark.parametrize(
    ("path", "form", "allowed"),
    [
        ("/auth/login", {"email": "ghost@acme-crm.example", "password": "not the password"}, 10),
        ("/request", {"name": "Flood"}, 5),
        ("/status", {"reference": "DSR-2026-AAAA-BBBB", "email": "ada@example.org"}, 5),
    ],
    ids=["sign-in", "intake", "status lookup"],
)
def test_public_forms_are_limited_per_address(client, database, path, form, allowed):
    token = csrf_token(client, path)
    responses = flood(client, "POST", path, allowed + 1, data={**form, "csrf_token": token})
    assert_limited_page(responses, allowed)
    assert client.get(path).status_code == 200  # reading the page stays open


def test_verification_pages_are_limited(client, session):
    path = file(client, request_type="objection", purposes=["marketing"])
    token = csrf_token(client, path)
    guesses = {"code": "000000", "channel": "email", "csrf_token": token}
    assert_limited_page(flood(client, "POST", path, 11, data=guesses), 10)
    limiter.reset()
    resend = path.replace("/verify", "/resend")
    assert_limited_page(flood(client, "POST", resend, 11, data={"channel": "email", "csrf_token": token}), 10)


def test_replies_are_limited(client, session):
    filed = awaiting(client, session)
    page = f"/my-request/{filed.reference}"
    token = csrf_token(client, page)
    assert_limited_page(flood(client, "POST", page + "/reply", 11, data={"body": "hello", "csrf_token": token}), 10)


def test_webhook_callbacks_are_limited_and_answer_in_json(client, database):
    assert_limited_json(flood(client, "POST", "/hooks/erasure/no-such-job", 61, data=b"{}"), 60)


def test_inbound_text_messages_are_limited_and_answer_in_json(client, database):
    assert_limited_json(flood(client, "POST", "/api/hooks/sms-keyword", 121, json={"from": "+1", "body": "STOP"}), 120)


def test_the_api_is_limited_and_answers_in_json(app, client, database):
    keyed = [r for r in ROUTES if r.area == "api" and r.method == "GET" and not r.arguments]
    assert keyed, "the API's key-protected GET routes were not found"
    route = keyed[0]
    responses = flood(client, route.method, route.rule, 400)
    assert any(r.status_code == 429 for r in responses), f"{route} was never limited"
    first = next(r for r in responses if r.status_code == 429)
    assert first.is_json and first.get_json()["status"] == 429


def test_a_forged_forwarded_for_header_does_not_reset_the_count(client, database):
    token = csrf_token(client, "/status")
    data = {"reference": "DSR-2026-AAAA-BBBB", "email": "ada@example.org", "csrf_token": token}
    responses = [client.post("/status", data=data, headers={"X-Forwarded-For": f"203.0.113.{n}"}) for n in range(6)]
    assert_limited_page(responses, 5)


def test_behind_a_trusted_proxy_each_client_has_its_own_count(app):
    proxied = create_app(
        "test",
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "DSR_UPLOAD_DIR": app.config["DSR_UPLOAD_DIR"],
            "DSR_TRUSTED_PROXIES": 1,
        },
    )
    limiter.reset()
    try:
        client = proxied.test_client()
        token = csrf_token(client, "/status")
        data = {"reference": "not a reference", "email": "x", "csrf_token": token}
        one = [client.post("/status", data=data, headers={"X-Forwarded-For": "198.51.100.7"}) for _ in range(6)]
        assert [r.status_code for r in one] == [200] * 5 + [429]
        other = client.post("/status", data=data, headers={"X-Forwarded-For": "198.51.100.8"})
        assert other.status_code == 200  # someone else behind the same proxy is not punished
    finally:
        limiter.reset()

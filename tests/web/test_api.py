"""The REST API as another system meets it: keys, scopes, clear JSON refusals, and what each endpoint answers."""

import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from dsr.domain.actors import Actor, ActorKind
from dsr.domain.consent import ConsentSource, FlagKind
from dsr.domain.dataset import SubjectIdentities
from dsr.domain.lifecycle import Status
from dsr.encryption import derived_key
from dsr.models import ApiKey, AuditEvent, DataSubjectRequest
from dsr.services.api_keys import revoke_api_key
from dsr.services.consent import record_consent, subject_for
from dsr.services.processing import record_flags
from dsr.services.suppression import suppress
from dsr.web.consent import consent_setup
from tests.factories import make_request, outbox_texts
from tests.web.api_support import ACCESS_REQUEST, call, make_key
from tests.web.conftest import post_form

ENDPOINTS = [
    ("POST", "/requests", "requests:write"),
    ("GET", "/requests/DSR-2026-AAAA-BBBB", "requests:read"),
    ("GET", "/subjects/consent?email=ada@example.org", "consent:read"),
    ("GET", "/suppression?email=ada@example.org", "suppression:read"),
]


@pytest.fixture
def api_key(session) -> str:
    """A key with every scope."""
    return make_key(session)


def send(client, method, path, key=None, **kwargs):
    if method == "POST":
        kwargs.setdefault("json", ACCESS_REQUEST)
    return call(client, method, path, key, **kwargs)


@pytest.mark.parametrize(("method", "path", "scope"), ENDPOINTS)
def test_a_call_without_a_key_is_refused_with_a_clear_json_error(client, session, method, path, scope):
    response = send(client, method, path)
    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json == {
        "error": "missing_key",
        "reason": "Send an API key in the header 'Authorization: Bearer <key>'.",
        "status": 401,
    }
    assert session.scalar(select(DataSubjectRequest)) is None


@pytest.mark.parametrize(
    ("header", "error", "reason"),
    [
        ("Basic YWRhOnNlY3JldA==", "malformed_key", "must be 'Bearer <key>'"),
        ("Bearer not-a-key", "malformed_key", "That is not a DSR Desk API key"),
        ("Bearer dsr_0123456789_" + "A" * 43, "unknown_key", "This API key is not known"),
    ],
)
def test_a_malformed_or_unknown_key_is_refused(client, session, header, error, reason):
    response = client.get("/api/v1/suppression?email=ada@example.org", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["error"] == error and reason in response.json["reason"]


def test_a_key_with_the_right_prefix_but_a_wrong_secret_is_unknown(client, session, api_key):
    forged = api_key[: -len("x")] + ("x" if not api_key.endswith("x") else "y")
    response = call(client, "GET", "/suppression?email=ada@example.org", forged)
    assert response.status_code == 401 and response.json["error"] == "unknown_key"


@pytest.mark.parametrize(("method", "path", "scope"), ENDPOINTS)
def test_a_revoked_key_is_refused(client, session, api_key, method, path, scope):
    key = session.scalar(select(ApiKey))
    revoke_api_key(session, Actor.system("tests"), datetime.now(UTC), key)
    session.commit()
    response = send(client, method, path, api_key)
    assert response.status_code == 401
    assert response.json["error"] == "revoked_key" and "revoked by an admin" in response.json["reason"]


@pytest.mark.parametrize(("method", "path", "scope"), ENDPOINTS)
def test_a_key_lacking_the_scope_is_refused_and_told_which_scope(client, session, method, path, scope):
    others = [s for _, _, s in ENDPOINTS if s != scope]
    response = send(client, method, path, make_key(session, others))
    assert response.status_code == 403
    assert response.json == {
        "error": "insufficient_scope",
        "reason": f"This API key does not have the scope {scope}. An admin can create a key that has it.",
        "scope": scope,
        "status": 403,
    }


def test_a_request_filed_through_the_api_is_verified_by_the_requester_and_queued_for_staff(
    client, session, api_key, staff_client
):
    body = {**ACCESS_REQUEST, "type": "objection", "purposes": ["product_analytics"], "details": "By phone"}
    response = call(client, "POST", "/requests", api_key, json=body)
    assert response.status_code == 201, response.json
    created = response.json
    assert created["status"] == "submitted" and created["verification"] == "email_sent"
    assert response.headers["Location"] == created["status_url"]
    assert created["status_url"].endswith(f"/api/v1/requests/{created['reference']}")
    filed = session.scalar(select(DataSubjectRequest))
    assert (filed.reference, filed.source, filed.gpc) == (created["reference"], "api", False)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "request.submitted"))
    assert event.actor_kind is ActorKind.API and "Support desk" in event.actor_label

    # The requester gets the same verification email as after the web form, plus their request's page.
    (email,) = outbox_texts(session, to="ada@example.org", template="verification")
    assert filed.reference in email and "on your behalf" in email and "/verify/" in email
    page = re.search(r"https?://\S+(/request/[^/\s]+/verify)", email).group(1)
    code = re.search(r"^ {4}(\d{6})$", email, re.MULTILINE).group(1)
    assert client.get(page).status_code == 200
    assert post_form(client, page, {"code": code, "channel": "email"}).status_code == 302
    session.expire_all()
    assert session.get(DataSubjectRequest, filed.id).status is Status.VERIFIED

    queue = staff_client.get("/staff/").get_data(as_text=True)
    assert filed.reference in queue and "via API" in queue
    assert "filed through the API" in staff_client.get(f"/staff/requests/{filed.reference}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"requester": {"name": "Ada", "email": "ada@example.org"}}, "type", "This field is required."),
        ({**ACCESS_REQUEST, "type": "teleport"}, "type", "Must be one of: access, portability"),
        ({**ACCESS_REQUEST, "requester": {"name": "Ada", "email": "ada@"}}, "requester.email", "Enter an email"),
        ({**ACCESS_REQUEST, "requester": {"name": "x" * 201, "email": "a@b.org"}}, "requester.name", "At most 200"),
        ({**ACCESS_REQUEST, "requester": {"name": 7, "email": "a@b.org"}}, "requester.name", "Must be a string."),
        ({**ACCESS_REQUEST, "type": "deletion"}, "requester.phone", "A deletion request needs a mobile number"),
        ({**ACCESS_REQUEST, "type": "correction"}, "corrections", "Tell us at least one thing to correct"),
        (
            {**ACCESS_REQUEST, "type": "correction", "corrections": [{"field": "Name", "value": ""}]},
            "corrections[0].value",
            "Must not be empty.",
        ),
        (
            {**ACCESS_REQUEST, "type": "correction", "corrections": [{"field": "Name", "value": "x" * 501}]},
            "corrections[0].value",
            "At most 500 characters.",
        ),
        ({**ACCESS_REQUEST, "type": "consent_withdrawal"}, "consent_topics", "Choose at least one thing to stop."),
        ({**ACCESS_REQUEST, "purposes": ["astrology"]}, "purposes[0]", "Must be one of: service"),
        ({**ACCESS_REQUEST, "agent": {"acting_for": "Bob", "authority": " "}}, "agent.authority", "how you are"),
        ({**ACCESS_REQUEST, "colour": "blue"}, "colour", "Unknown field."),
        ([ACCESS_REQUEST], "body", "Must be an object."),
    ],
)
def test_invalid_requests_get_a_422_naming_each_field(client, session, api_key, body, field, message):
    response = call(client, "POST", "/requests", api_key, json=body)
    assert response.status_code == 422, response.json
    assert response.json["error"] == "validation_failed"
    assert message in response.json["fields"][field], response.json["fields"]
    assert session.scalar(select(DataSubjectRequest)) is None


def test_a_body_that_is_not_json_is_refused(client, session, api_key):
    broken = call(client, "POST", "/requests", api_key, data="{", content_type="application/json")
    assert broken.status_code == 400 and broken.json["error"] == "invalid_json"
    form = call(client, "POST", "/requests", api_key, data={"type": "access"})
    assert form.status_code == 415 and "application/json" in form.json["reason"]


def test_a_requests_status_carries_its_progress_but_never_who_asked(client, session, api_key, clock):
    request = make_request(session, clock())
    request.details = "my secret story"
    session.commit()
    response = call(client, "GET", f"/requests/{request.reference.lower()}", api_key)
    assert response.status_code == 200
    answer = response.json
    assert answer["reference"] == request.reference and answer["status"] == "submitted" and answer["source"] == "web"
    assert answer["due_on"] == request.due_on.isoformat() and answer["outcome"] is None
    text = response.get_data(as_text=True)
    assert "Ada" not in text and "ada@example.org" not in text and "secret story" not in text


def test_confidential_and_unknown_requests_are_not_found(client, session, api_key):
    request = make_request(session)
    request.confidential = True
    session.commit()
    for reference in (request.reference, "DSR-2026-ZZZZ-ZZZZ", "nonsense"):
        response = call(client, "GET", f"/requests/{reference}", api_key)
        assert response.status_code == 404 and response.json["error"] == "not_found"


def test_doubled_or_encoded_slashes_are_not_found_as_json_never_redirected(client, session, api_key):
    reference = make_request(session).reference
    for path in ("/requests/%2F0", f"/requests//{reference}", "//requests", "/subjects//consent?email=a@b.org"):
        response = call(client, "GET", path, api_key)
        assert response.status_code == 404 and response.json["error"] == "not_found", path


def test_consent_and_restriction_state_by_email_or_phone(client, session, api_key, app):
    setup, now = consent_setup(), datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    identities = SubjectIdentities.of("ada@example.org", "+44 7700 900123")
    person = subject_for(session, Actor.system("tests"), now, setup, identities)
    record_consent(session, Actor.system("tests"), now, setup, person, "marketing_email", False, ConsentSource.API)
    record_consent(session, Actor.system("tests"), now, setup, person, "marketing_sms", True, ConsentSource.FORM)
    record_flags(session, Actor.system("tests"), now, setup, person, FlagKind.OBJECTION, ["product_analytics"])
    session.commit()
    for query in ("email=Ada@Example.org", "phone=%2B44%207700%20900123"):
        answer = call(client, "GET", f"/subjects/consent?{query}", api_key).json
        topics = {t["topic"]: t for t in answer["topics"]}
        assert topics["marketing_email"]["state"] == "withdrawn" and topics["marketing_email"]["source"] == "api"
        assert topics["marketing_sms"]["state"] == "granted" and topics["analytics_cookies"]["state"] == "no_record"
        purposes = {p["purpose"]: p for p in answer["purposes"]}
        assert purposes["product_analytics"]["objected"] and not purposes["product_analytics"]["restricted"]
        assert not purposes["marketing"]["objected"]
    stranger = call(client, "GET", "/subjects/consent?email=bob@example.org", api_key).json
    assert {t["state"] for t in stranger["topics"]} == {"no_record"}


def test_consent_lookups_need_an_email_or_phone(client, session, api_key):
    missing = call(client, "GET", "/subjects/consent", api_key)
    assert missing.status_code == 422 and missing.json["fields"] == {"email": "Give at least one of: email, phone."}
    bad = call(client, "GET", "/subjects/consent?phone=call-me", api_key)
    assert bad.status_code == 422 and "Enter a phone number like" in bad.json["fields"]["phone"]


def test_suppression_answers_true_only_for_erased_identifiers(client, session, api_key, app):
    key = derived_key(app.config, "suppression")
    suppress(session, key, datetime.now(UTC), SubjectIdentities.of(email="gone@example.org", customer_id="C-9"), None)
    session.commit()
    assert call(client, "GET", "/suppression?email=Gone@example.org", api_key).json == {"suppressed": True}
    assert call(client, "GET", "/suppression?customer_id=C-9", api_key).json == {"suppressed": True}
    other = "/suppression?email=here@example.org&phone=%2B44%207700%20900999"
    assert call(client, "GET", other, api_key).json == {"suppressed": False}
    assert call(client, "GET", "/suppression", api_key).status_code == 422


def test_calls_are_limited_per_key(client, session, app, monkeypatch):
    monkeypatch.setitem(app.config, "DSR_API_RATE_LIMIT", "2 per minute")
    busy, quiet = make_key(session, name="Busy"), make_key(session, name="Quiet")
    paths = ["/suppression?email=a@b.org", "/subjects/consent?email=a@b.org", "/requests/DSR-2026-AAAA-BBBB"]
    answers = [call(client, "GET", path, busy) for path in paths]  # one budget per key, whatever the endpoint
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json["error"] == "rate_limited" and "Retry-After" in answers[2].json["reason"]
    assert int(answers[2].headers["Retry-After"]) > 0
    assert call(client, "GET", "/suppression?email=a@b.org", quiet).status_code == 200


def test_no_cookies_no_csrf_and_the_last_use_is_recorded(client, session, api_key, clock):
    clock.set(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    response = call(client, "POST", "/requests", api_key, json=ACCESS_REQUEST)
    assert response.status_code == 201 and "Set-Cookie" not in response.headers
    session.expire_all()
    assert session.scalar(select(ApiKey)).last_used_at == clock()


def test_unknown_paths_and_methods_answer_in_json(client, session, api_key):
    missing = call(client, "GET", "/nothing-here", api_key)
    assert missing.status_code == 404 and missing.json["error"] == "not_found"
    wrong = call(client, "DELETE", "/requests", api_key)
    assert wrong.status_code == 405 and wrong.json["reason"] == "DELETE is not accepted here; use POST."
    assert wrong.headers["Allow"] == "POST"


def test_a_body_nested_too_deeply_is_refused_not_crashed_on(client, session, api_key):
    response = call(client, "POST", "/requests", api_key, data="[" * 100_000, content_type="application/json")
    assert response.status_code == 400 and response.json["error"] == "invalid_json"


@pytest.mark.parametrize("name", ["Ada\u0000", "Ada\ud800"])
def test_text_no_database_can_store_is_refused(client, session, api_key, name):
    body = json.dumps({**ACCESS_REQUEST, "requester": {"name": name, "email": "ada@example.org"}})
    response = call(client, "POST", "/requests", api_key, data=body, content_type="application/json")
    assert response.status_code == 422 and "NUL" in response.json["fields"]["requester.name"]
    assert call(client, "GET", "/requests/DSR-2026-AAAA-BBB%00", api_key).status_code == 404


def test_a_reference_already_taken_is_drawn_again_through_the_api(client, session, api_key, monkeypatch):
    taken = make_request(session).reference
    draws = iter([taken, "DSR-2026-APIF-RESH"])
    monkeypatch.setattr("dsr.services.requests.new_reference", lambda year: next(draws))
    response = call(client, "POST", "/requests", api_key, json=ACCESS_REQUEST)
    assert response.status_code == 201 and response.json["reference"] == "DSR-2026-APIF-RESH"
    assert session.scalar(select(func.count()).select_from(DataSubjectRequest)) == 2

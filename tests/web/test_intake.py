"""The intake form as a requester meets it: every right, clear errors, nothing lost, nothing leaked."""

import re

import pytest
from sqlalchemy import func, select

from dsr.domain.lifecycle import Status
from dsr.models import DataSubjectRequest
from tests.factories import outbox_texts
from tests.web.conftest import csrf_token

BASE = {
    "request_type": "access",
    "jurisdiction": "eu_gdpr",
    "name": "Ada Lovelace",
    "email": "ada@example.org",
    "privacy_ack": "y",
}


def submit(client, headers=None, **fields):
    data = {**BASE, **fields, "csrf_token": csrf_token(client, "/request")}
    return client.post("/request", data={k: v for k, v in data.items() if v is not None}, headers=headers or {})


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(DataSubjectRequest))


def test_form_offers_every_right_and_jurisdiction_of_the_profile(client):
    html = client.get("/request").get_data(as_text=True)
    for value in ("access", "portability", "correction", "deletion", "consent_withdrawal", "restriction", "objection"):
        assert f'value="{value}"' in html
    assert '<option selected value="in_dpdp">' in html
    assert "Marketing text messages (SMS)" in html and "Analytics cookies" in html


def test_type_from_the_landing_page_is_preselected(client):
    html = client.get("/request?type=deletion").get_data(as_text=True)
    assert re.search(r'<input[^>]* checked [^>]*value="deletion"', html)


def test_valid_request_is_stored_and_a_code_is_emailed(client, session):
    response = submit(client, email=" Ada@Example.org ", details="Please include call recordings.")
    assert response.status_code == 302 and re.fullmatch(r"/request/[^/]+/verify", response.headers["Location"])
    filed = session.scalar(select(DataSubjectRequest))
    assert filed.status is Status.SUBMITTED and filed.requester_email == "ada@example.org"
    assert filed.due_on is not None and filed.acknowledged_at is not None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert filed.reference in page and "a•••@example.org" in page
    (text,) = outbox_texts(session, to="ada@example.org", template="verification")
    assert filed.reference in text and re.search(r"\b\d{6}\b", text) and "/verify/" in text


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "not-an-email"}, "Enter an email address like name@example.com."),
        ({"name": "x" * 201}, "Field cannot be longer than 200 characters."),
        ({"request_type": "teleportation"}, "Not a valid choice"),
        ({"request_type": None}, "Choose what you would like us to do."),
        ({"privacy_ack": None}, "Please confirm you have read the privacy notice."),
        ({"request_type": "deletion"}, "A deletion request needs a mobile number"),
        ({"phone": "call me maybe"}, "Enter a phone number like"),
        ({"request_type": "correction"}, "Tell us at least one thing to correct"),
        ({"request_type": "consent_withdrawal"}, "Choose at least one thing to stop."),
        ({"request_type": "objection"}, "Choose at least one kind of processing."),
        ({"is_agent": "y"}, "Tell us who you are acting for."),
        ({"details": "y" * 5001}, "Field cannot be longer than 5000 characters."),
    ],
)
def test_bad_input_re_renders_with_a_clear_error_and_keeps_what_was_typed(client, session, fields, message):
    response = submit(client, **{"details": "My details stay here", **fields})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in html
    assert "Please correct the highlighted fields" in html
    if "name" not in fields:
        assert 'value="Ada Lovelace"' in html
    assert count(session) == 0


def test_hostile_text_is_escaped_on_re_render(client, session):
    payload = '<script>alert("x")</script>'
    html = submit(client, name=payload, details=payload, email="bad").get_data(as_text=True)
    assert payload not in html
    assert "&lt;script&gt;alert(" in html


def test_type_specific_answers_are_kept(client, session):
    submit(
        client,
        request_type="correction",
        **{"corrections-0-field_name": "Postal address", "corrections-0-new_value": "1 New Street, Leeds"},
        phone="+44 7700 900123",
        data_point="CUST-1001",
    )
    filed = session.scalar(select(DataSubjectRequest))
    assert filed.form_data == {
        "corrections": [{"field": "Postal address", "value": "1 New Street, Leeds"}],
        "data_point": "CUST-1001",
    }
    assert filed.requester_phone == "+447700900123"


def test_consent_withdrawal_and_objection_record_their_choices(client, session):
    submit(client, request_type="consent_withdrawal", consent_topics=["marketing_sms", "sale_sharing"])
    submit(client, request_type="objection", purposes=["product_analytics"], email="bo@example.org")
    forms = {r.request_type.value: r.form_data for r in session.scalars(select(DataSubjectRequest))}
    assert forms == {
        "consent_withdrawal": {"consent_topics": ["marketing_sms", "sale_sharing"]},
        "objection": {"purposes": ["product_analytics"]},
    }


def test_authorised_agent_names_the_person_represented(client, session):
    submit(client, is_agent="y", subject_name="Grace Hopper", agent_authority="Signed permission dated 1 May")
    filed = session.scalar(select(DataSubjectRequest))
    assert filed.is_agent and filed.subject_name == "Grace Hopper"
    assert filed.form_data["agent_authority"] == "Signed permission dated 1 May"


def test_gpc_signal_is_shown_and_recorded(client, session):
    assert "Global Privacy Control" in client.get("/request", headers={"Sec-GPC": "1"}).get_data(as_text=True)
    assert "Global Privacy Control" not in client.get("/request").get_data(as_text=True)
    submit(client, headers={"Sec-GPC": "1"})
    assert session.scalar(select(DataSubjectRequest)).gpc is True


def test_honeypot_answers_like_success_but_stores_nothing(client, session):
    response = submit(client, website="http://spam.example")
    assert response.status_code == 302 and response.headers["Location"] == "/request/received"
    assert count(session) == 0 and outbox_texts(session) == []


def test_intake_posts_are_rate_limited(client, session):
    codes = [submit(client, email=f"p{i}@example.org").status_code for i in range(6)]
    assert codes == [302] * 5 + [429]
    assert count(session) == 5


def normalise(html: str) -> str:
    html = re.sub(r"DSR-\d{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", "REF", html)
    html = re.sub(r'value="[^"]{40,}"', 'value="TOKEN"', html)
    html = re.sub(r"/request/[^/\"]+/", "/request/TOKEN/", html)
    return re.sub(r"\w•••@[\w.-]+", "MASKED", html)


def test_known_and_unknown_emails_get_identical_responses(client, session, app):
    submit(client, email="known@example.org")  # the organisation now knows this address
    known = submit(client, email="known@example.org")
    unknown = submit(client, email="stranger@example.org")
    assert known.status_code == unknown.status_code == 302
    assert normalise(known.headers["Location"]) == normalise(unknown.headers["Location"])
    known_page = normalise(client.get(known.headers["Location"]).get_data(as_text=True))
    unknown_page = normalise(client.get(unknown.headers["Location"]).get_data(as_text=True))
    assert known_page == unknown_page


def test_a_reference_already_taken_is_drawn_again_and_nothing_is_half_saved(client, session, monkeypatch):
    """The intake does not look a new reference up first: the unique constraint is the check, and a
    collision (about one draw in a million once a year holds a million requests) files it again."""
    submit(client, email="first@example.org")
    taken = session.scalar(select(DataSubjectRequest.reference))
    draws = iter([taken, taken, "DSR-2026-FRSH-DRAW"])
    monkeypatch.setattr("dsr.services.requests.new_reference", lambda year: next(draws))
    response = submit(client, email="second@example.org")
    assert response.status_code == 302
    second = session.scalar(select(DataSubjectRequest).filter_by(requester_email="second@example.org"))
    assert second.reference == "DSR-2026-FRSH-DRAW" and count(session) == 2
    assert len(outbox_texts(session, to="second@example.org", template="verification")) == 1
    assert next(draws, None) is None  # drawn three times: twice taken, then free

"""From the form to a verified request: codes, links, resends and the second factor."""

import re
from datetime import timedelta

from sqlalchemy import select

from dsr.domain.lifecycle import Status
from dsr.models import DataSubjectRequest
from tests.factories import code_in, link_in, outbox_texts
from tests.web.conftest import csrf_token, post_form
from tests.web.test_intake import submit


def file(client, **fields) -> str:
    """Submit the form; returns the verify page path."""
    response = submit(client, **fields)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response.headers["Location"]


def enter_code(client, path: str, code: str, channel: str = "email"):
    return post_form(client, path, {"code": code, "channel": channel})


def test_consent_withdrawal_is_verified_by_the_email_code_and_completes_at_once(client, session, clock):
    clock.set(clock())
    path = file(client, request_type="consent_withdrawal", consent_topics=["marketing_email"])
    code = code_in(outbox_texts(session, template="verification")[0])
    response = enter_code(client, path, code)
    filed = session.scalar(select(DataSubjectRequest))
    assert response.headers["Location"] == f"/my-request/{filed.reference}"
    assert filed.status is Status.COMPLETED and filed.verified_at == filed.closed_at == clock()
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "your withdrawal has taken effect" in page and "We will answer by" not in page
    (confirmation,) = outbox_texts(session, template="letter")  # the confirmation replaces the acknowledgement
    assert "We have recorded your withdrawal of consent. It took effect at once." in confirmation
    assert "/status/" in confirmation


def test_wrong_codes_count_down_then_void_the_challenge(client, session):
    path = file(client, request_type="objection", purposes=["product_analytics"])
    code = code_in(outbox_texts(session)[0])
    bad = f"{(int(code) + 1) % 1_000_000:06d}"
    pages = [enter_code(client, path, bad).get_data(as_text=True) for _ in range(5)]
    assert "4 attempts left" in pages[0] and "1 attempt left" in pages[3]
    assert "Too many wrong attempts" in pages[4]
    assert "Too many wrong attempts" in enter_code(client, path, code).get_data(as_text=True)
    assert session.scalar(select(DataSubjectRequest)).status is Status.SUBMITTED


def test_expired_code_is_refused_and_a_resend_gives_a_working_one(client, session, clock):
    clock.set(clock())
    path = file(client, request_type="objection", purposes=["marketing"])
    old = code_in(outbox_texts(session)[0])
    clock.advance(minutes=16)
    assert "That code has expired" in enter_code(client, path, old).get_data(as_text=True)
    resend_path = path.replace("/verify", "/resend")
    response = client.post(resend_path, data={"channel": "email", "csrf_token": csrf_token(client, path)})
    assert response.status_code == 302
    assert "A new code is on its way" in client.get(path).get_data(as_text=True)
    again = client.post(resend_path, data={"channel": "email", "csrf_token": csrf_token(client, path)})
    assert "You can ask for another in" in client.get(again.headers["Location"]).get_data(as_text=True)
    new = code_in(outbox_texts(session)[-1])
    assert enter_code(client, path, new).status_code == 302
    assert session.scalar(select(DataSubjectRequest)).status is Status.VERIFIED


def test_email_link_asks_before_confirming_and_works_once(client, session):
    file(client, request_type="consent_withdrawal", consent_topics=["marketing_sms"])
    link = link_in(outbox_texts(session)[0], "/verify/")
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + path)
    assert page.status_code == 200 and "Yes, this is my request" in page.get_data(as_text=True)
    assert session.scalar(select(DataSubjectRequest)).status is Status.SUBMITTED  # a GET changes nothing
    confirmed = post_form(client, "/" + path, {})
    assert confirmed.headers["Location"].startswith("/my-request/")
    assert session.scalar(select(DataSubjectRequest)).status is Status.COMPLETED  # a withdrawal acts at once
    assert client.get("/" + path).status_code == 410


def test_expired_link_is_refused(client, session, clock):
    clock.set(clock())
    file(client, request_type="consent_withdrawal", consent_topics=["marketing_sms"])
    path = "/" + link_in(outbox_texts(session)[0], "/verify/").split("://", 1)[1].split("/", 1)[1]
    clock.advance(hours=24, seconds=1)
    response = client.get(path)
    assert response.status_code == 410 and "no longer works" in response.get_data(as_text=True)


def test_deletion_needs_the_sms_code_after_the_email_code(client, session):
    path = file(client, request_type="deletion", phone="+44 7700 900123")
    enter_code(client, path, code_in(outbox_texts(session, template="verification")[0]))
    page = client.get(path).get_data(as_text=True)
    assert "we have texted a 6-digit code to" in page.lower() and "•••123" in page
    assert session.scalar(select(DataSubjectRequest)).status is Status.SUBMITTED
    (sms,) = outbox_texts(session, to="+447700900123")
    response = enter_code(client, path, code_in(sms), channel="sms")
    assert response.headers["Location"].startswith("/my-request/")
    filed = session.scalar(select(DataSubjectRequest))
    assert filed.status is Status.VERIFIED and filed.factors == {"email", "sms"}


def test_access_without_a_phone_waits_for_staff_after_the_email_code(client, session):
    path = file(client, request_type="access")
    response = enter_code(client, path, code_in(outbox_texts(session)[0]))
    status_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your email is confirmed; our team is finishing the check." in status_page
    # The headline agrees: nothing more is asked of the requester.
    assert "our team is checking your identity" in status_page and "waiting for you to confirm" not in status_page
    assert session.scalar(select(DataSubjectRequest)).status is Status.SUBMITTED
    assert "A member of our team will finish checking" in client.get(path).get_data(as_text=True)


def test_verify_page_with_a_forged_token_is_404(client):
    assert client.get("/request/not-a-real-token/verify").status_code == 404


def test_verified_request_keeps_the_due_date_from_receipt(client, session, clock):
    clock.set(clock())
    path = file(client, request_type="objection", purposes=["marketing"], jurisdiction="us_ca_ccpa")
    clock.advance(days=3)
    resend = path.replace("/verify", "/resend")
    client.post(resend, data={"channel": "email", "csrf_token": csrf_token(client, path)})
    enter_code(client, path, code_in(outbox_texts(session)[-1]))
    filed = session.scalar(select(DataSubjectRequest))
    received = filed.received_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Kolkata")).date()
    assert filed.due_on == received + timedelta(days=45)
    assert re.fullmatch(r"DSR-\d{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", filed.reference)

"""Guessing one-time codes is capped: verification codes (5 tries a code, 5 codes an hour), the admins'
TOTP (5 tries a sign-in, counted on the account, so replaying a cookie gains nothing) and download codes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from dsr.domain.actors import Actor
from dsr.domain.lifecycle import Action, Status
from dsr.extensions import limiter
from dsr.models import AuditEvent, Bundle, DataSubjectRequest, JobKind, StaffUser
from dsr.services.requests import transition
from dsr.web.public.requester import status_token
from tests.factories import code_in, make_request, outbox_texts
from tests.security.conftest import write_encrypted
from tests.web.conftest import ADMIN_EMAIL, csrf_token, post_form, sign_in
from tests.web.test_verification_flow import enter_code, file

NOT_RIGHT = "That code is not right"


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_verification_code_dies_after_five_wrong_guesses(client, session):
    path = file(client, request_type="objection", purposes=["marketing"])
    code = code_in(outbox_texts(session, template="verification")[0])
    pages = [enter_code(client, path, wrong(code)).get_data(as_text=True) for _ in range(5)]
    assert all(NOT_RIGHT in page for page in pages[:4]) and "Too many wrong attempts" in pages[4]
    assert "Too many wrong attempts" in enter_code(client, path, code).get_data(as_text=True)
    assert session.scalar(select(DataSubjectRequest.status)) is Status.SUBMITTED


def test_at_most_25_guesses_an_hour_for_one_request(client, session, clock):
    """5 codes an hour (60 s apart), 5 tries each: one in 40,000 chances an hour, whatever the attacker does."""
    clock.set(datetime.now(UTC))
    path = file(client, request_type="objection", purposes=["marketing"])
    resend = path.replace("/verify", "/resend")
    for _round in range(8):
        for _ in range(6):
            limiter.reset()  # the per-address limit is a further cap; this test is about the per-request one
            enter_code(client, path, "000000")
        clock.advance(seconds=61)
        client.post(resend, data={"channel": "email", "csrf_token": csrf_token(client, path)})
    checked = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "verification.wrong_code")
    assert session.scalar(checked) == 25  # 48 tries, 25 of them checked ("000000" never was the code)
    refused = client.get(path).get_data(as_text=True)
    assert "You have asked for 5 codes in the last hour" in refused
    assert session.scalar(select(DataSubjectRequest.status)) is Status.SUBMITTED


def test_verification_guesses_from_one_address_are_rate_limited(client, session):
    path = file(client, request_type="objection", purposes=["marketing"])
    statuses = [enter_code(client, path, "000000").status_code for _ in range(11)]
    assert statuses[-1] == 429 and 429 not in statuses[:10]


def admin_password_step(client, clock):
    clock.advance(seconds=30)
    assert sign_in(client, ADMIN_EMAIL).headers["Location"] == "/auth/totp"


def test_wrong_totp_codes_lock_the_account_even_when_the_session_cookie_is_replayed(
    app, client, session, admin_user, clock
):
    admin_password_step(client, clock)
    token = csrf_token(client, "/auth/totp")
    pending = client.get_cookie("dsr_session").value  # the cookie says: 0 tries so far
    right = admin_user.totp.at(clock())
    for _ in range(5):
        client.set_cookie("dsr_session", pending)  # an attacker replays the fresh cookie every time
        client.post("/auth/totp", data={"code": wrong(right), "csrf_token": token})
    session.expire_all()
    user = session.scalar(select(StaffUser).where(StaffUser.email == ADMIN_EMAIL))
    assert user.locked_until is not None and user.locked_until > clock()
    client.set_cookie("dsr_session", pending)
    response = client.post("/auth/totp", data={"code": right, "csrf_token": token})
    assert response.headers["Location"] == "/auth/login"  # even the right code: the account is locked
    assert client.get("/admin/").status_code == 302
    assert "do not match an active account" in sign_in(client, ADMIN_EMAIL).get_data(as_text=True)
    clock.advance(minutes=16)
    admin_password_step(client, clock)
    assert post_form(client, "/auth/totp", {"code": admin_user.totp.at(clock())}).headers["Location"] == "/admin/"


def test_totp_guesses_are_rate_limited_per_address(client, admin_user, clock):
    admin_password_step(client, clock)
    token = csrf_token(client, "/auth/totp")
    pending = client.get_cookie("dsr_session").value
    statuses = []
    for _ in range(11):
        client.set_cookie("dsr_session", pending)
        statuses.append(client.post("/auth/totp", data={"code": "000000", "csrf_token": token}).status_code)
    assert statuses[-1] == 429 and 429 not in statuses[:10]


@pytest.fixture
def released(app, client, session):
    """A completed access request with its bundle released, opened by the requester's browser."""
    now = datetime.now(UTC)
    request = make_request(session, now)
    for action in (Action.VERIFY, Action.COMPLETE):
        transition(session, Actor.system("tests"), now, request, action)
    bundle = Bundle(
        request_id=request.id,
        kind=JobKind.ACCESS_BUNDLE,
        file_name="released.bundle",
        released_at=now,
        expires_at=now + timedelta(days=7),
        max_downloads=3,
    )
    session.add(bundle)
    session.commit()
    write_encrypted(app.config["DSR_BUNDLE_DIR"], bundle.file_name, b"PK data")
    client.get(f"/status/{status_token(request)}")
    return f"/my-request/{request.reference}"


def test_a_download_code_dies_after_five_wrong_guesses(client, session, released):
    post_form(client, released + "/download-code", {}, token_from=released)
    code = code_in(outbox_texts(session, template="download_code")[-1])
    pages = [
        post_form(client, released + "/download", {"code": wrong(code)}, token_from=released).get_data(as_text=True)
        for _ in range(5)
    ]
    assert NOT_RIGHT in pages[0] and "Too many wrong attempts" in pages[4]
    refused = post_form(client, released + "/download", {"code": code}, token_from=released)
    assert refused.status_code == 400 and refused.mimetype == "text/html"  # no ZIP
    assert session.scalar(select(Bundle.downloads)) == 0


def test_download_codes_are_capped_per_hour(client, session, clock, released):
    clock.set(datetime.now(UTC))
    for _ in range(7):
        post_form(client, released + "/download-code", {}, token_from=released)
        clock.advance(seconds=61)
    assert len(outbox_texts(session, template="download_code")) == 5
    assert "You have asked for 5 codes in the last hour" in client.get(released).get_data(as_text=True)

"""Signing in and out as a user would see it."""

from datetime import timedelta

import pyotp
from sqlalchemy import select

from dsr.models import StaffUser
from tests.factories import PASSWORD
from tests.web.conftest import ADMIN_EMAIL, STAFF_EMAIL, admin_sign_in, post_form, sign_in, sign_out

BAD_LOGIN = "do not match an active account"


def test_staff_signs_in_and_lands_on_the_queue(client, staff_user):
    response = sign_in(client, STAFF_EMAIL)
    assert response.headers["Location"] == "/staff/"
    page = client.get("/staff/").get_data(as_text=True)
    assert "Request queue" in page and "Sam Staff" in page


def test_wrong_password_shows_one_generic_message_and_keeps_the_email(client, staff_user):
    page = sign_in(client, STAFF_EMAIL, "not the password").get_data(as_text=True)
    assert BAD_LOGIN in page
    assert f'value="{STAFF_EMAIL}"' in page
    unknown = sign_in(client, "ghost@acme-crm.example", "not the password").get_data(as_text=True)
    assert BAD_LOGIN in unknown


def test_lockout_after_five_failures_refuses_the_right_password(client, staff_user, clock):
    clock.set(clock())
    for _ in range(5):
        sign_in(client, STAFF_EMAIL, "not the password")
    assert BAD_LOGIN in sign_in(client, STAFF_EMAIL).get_data(as_text=True)
    clock.advance(minutes=16)
    assert sign_in(client, STAFF_EMAIL).status_code == 302


def test_login_posts_are_rate_limited_per_address(client, staff_user):
    responses = [sign_in(client, "ghost@acme-crm.example", "nope nope nope") for _ in range(11)]
    assert [r.status_code for r in responses[:10]] == [200] * 10
    assert responses[10].status_code == 429
    assert "Too many attempts" in responses[10].get_data(as_text=True)
    # Even the right password is refused while the limit lasts.
    assert sign_in(client, STAFF_EMAIL).status_code == 429


def test_invalid_form_re_renders_with_errors(client):
    page = post_form(client, "/auth/login", {"email": "not-an-email", "password": ""}).get_data(as_text=True)
    assert "Invalid email address" in page and "This field is required" in page
    assert 'value="not-an-email"' in page


def test_safe_next_is_followed_and_external_next_ignored(client, staff_user):
    assert sign_in(client, STAFF_EMAIL, next_url="/staff/").headers["Location"] == "/staff/"
    sign_out(client)
    for evil in ("https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:alert(1)"):
        response = sign_in(client, STAFF_EMAIL, next_url=evil)
        assert response.headers["Location"] == "/staff/", evil
        sign_out(client)


def test_logout_needs_post_with_csrf(staff_client):
    assert staff_client.get("/auth/logout").status_code == 405
    refused = staff_client.post("/auth/logout")
    assert refused.status_code == 400 and "expired" in refused.get_data(as_text=True)
    assert staff_client.get("/staff/").status_code == 200
    sign_out(staff_client)
    assert staff_client.get("/staff/").status_code == 302


def test_session_cookie_flags(client, staff_user):
    response = sign_in(client, STAFF_EMAIL)
    cookie = next(v for k, v in response.headers.items() if k == "Set-Cookie" and v.startswith("dsr_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_session_planted_before_sign_in_does_not_survive(client, staff_user):
    with client.session_transaction() as planted:
        planted["attacker"] = "value"
    sign_in(client, STAFF_EMAIL)
    with client.session_transaction() as current:
        assert "attacker" not in current


def test_password_change_signs_out_other_sessions(staff_client, session):
    user = session.scalar(select(StaffUser).where(StaffUser.email == STAFF_EMAIL))
    user.session_version += 1
    session.commit()
    assert staff_client.get("/staff/").status_code == 302


def test_admin_enrols_totp_at_first_sign_in(client, session, clock):
    from dsr.models import Role
    from tests.factories import make_user

    make_user(session, ADMIN_EMAIL, Role.ADMIN, "Ada Admin")
    assert sign_in(client, ADMIN_EMAIL).headers["Location"] == "/auth/totp"
    # The admin area stays shut until the second factor is done.
    assert client.get("/admin/").status_code == 302
    page = client.get("/auth/totp").get_data(as_text=True)
    assert "Set up your authenticator" in page
    import re

    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    qr = client.get("/auth/totp/qr.svg")
    assert qr.status_code == 200 and qr.headers["Content-Type"] == "image/svg+xml"
    response = post_form(client, "/auth/totp", {"code": pyotp.TOTP(secret).now()})
    assert response.headers["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200
    assert client.get("/auth/totp/qr.svg").status_code == 302  # no pending login any more


def test_admin_with_wrong_codes_is_sent_back_to_sign_in(client, admin_user, clock):
    clock.advance(seconds=30)
    sign_in(client, ADMIN_EMAIL)
    for _attempt in range(5):
        response = post_form(
            client, "/auth/totp", {"code": "000000" if admin_user.totp.at(clock()) != "000000" else "111111"}
        )
    assert response.headers["Location"] == "/auth/login"
    assert client.get("/admin/").status_code == 302


def test_admin_totp_code_cannot_be_replayed(client, admin_user, clock):
    assert admin_sign_in(client, admin_user, clock).status_code == 302
    code = admin_user.totp.at(clock())
    sign_out(client)
    sign_in(client, ADMIN_EMAIL)
    page = post_form(client, "/auth/totp", {"code": code}).get_data(as_text=True)
    assert "already been used" in page


def test_pending_second_factor_expires(client, admin_user, clock):
    clock.advance(seconds=30)
    sign_in(client, ADMIN_EMAIL)
    clock.advance(minutes=6)
    assert client.get("/auth/totp").headers["Location"] == "/auth/login"


def test_staff_password_is_never_echoed(client, staff_user):
    page = sign_in(client, STAFF_EMAIL, "secret-password-typo").get_data(as_text=True)
    assert "secret-password-typo" not in page
    assert PASSWORD not in page


def test_already_signed_in_login_page_redirects(staff_client):
    assert staff_client.get("/auth/login").headers["Location"] == "/staff/"


__all__ = ["timedelta"]

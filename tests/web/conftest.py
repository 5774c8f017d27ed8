from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from dsr.encryption import Cipher
from dsr.models import Role
from dsr.services import users
from tests.factories import PASSWORD, make_user

STAFF_EMAIL = "sam@acme-crm.example"
ADMIN_EMAIL = "ada@acme-crm.example"


def csrf_token(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_out(client) -> None:
    client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/")})


def post_form(client, path: str, data: dict, follow: bool = False, token_from: str | None = None):
    return client.post(
        path, data={**data, "csrf_token": csrf_token(client, token_from or path)}, follow_redirects=follow
    )


def sign_in(client, email: str, password: str = PASSWORD, next_url: str | None = None):
    path = "/auth/login" + (f"?next={next_url}" if next_url else "")
    return post_form(client, path, {"email": email, "password": password})


@pytest.fixture
def staff_user(session):
    return make_user(session, STAFF_EMAIL, Role.STAFF, "Sam Staff")


@pytest.fixture
def admin_user(session, app, clock):
    """An admin who has already enrolled an authenticator; `.totp` makes their codes."""
    clock.set(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    user = make_user(session, ADMIN_EMAIL, Role.ADMIN, "Ada Admin")
    cipher: Cipher = app.extensions["dsr_cipher"]
    secret = users.start_totp_enrolment(user, cipher)
    assert users.check_totp(session, user, pyotp.TOTP(secret).at(clock()), clock(), cipher)
    session.commit()
    user.totp = pyotp.TOTP(secret)
    return user


@pytest.fixture
def staff_client(client, staff_user):
    response = sign_in(client, STAFF_EMAIL)
    assert response.status_code == 302
    return client


def admin_sign_in(client, admin_user, clock):
    clock.advance(seconds=30)
    assert sign_in(client, ADMIN_EMAIL).headers["Location"] == "/auth/totp"
    return post_form(client, "/auth/totp", {"code": admin_user.totp.at(clock())})


@pytest.fixture
def admin_client(client, admin_user, clock):
    response = admin_sign_in(client, admin_user, clock)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


__all__ = ["csrf_token", "post_form", "sign_in", "sign_out", "admin_sign_in", "timedelta"]

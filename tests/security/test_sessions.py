"""Session fixation and cookie flags: nothing planted before sign-in survives it, the cookie changes at
sign-in and sign-out, a copied cookie dies at sign-out, and the flags are right (Secure in production)."""

from __future__ import annotations

from dsr import create_app
from tests.web.conftest import ADMIN_EMAIL, STAFF_EMAIL, admin_sign_in, csrf_token, sign_in, sign_out

COOKIE = "dsr_session"


def session_cookie(client) -> str | None:
    cookie = client.get_cookie(COOKIE)
    return cookie.value if cookie else None


def set_cookie_headers(response) -> list[str]:
    return [value for key, value in response.headers.items() if key == "Set-Cookie"]


def test_a_session_planted_before_sign_in_does_not_survive_it(client, staff_user):
    csrf_token(client, "/auth/login")
    with client.session_transaction() as planted:
        planted["attacker"] = "chosen value"
        planted["_user_id"] = "someone-else.1"
        planted["requester_grants"] = {"DSR-2026-AAAA-BBBB": 9e12}
    planted_cookie = session_cookie(client)
    assert sign_in(client, STAFF_EMAIL).status_code == 302
    assert session_cookie(client) != planted_cookie
    with client.session_transaction() as current:
        assert "attacker" not in current and "requester_grants" not in current
        assert current["_user_id"] != "someone-else.1"


def test_the_admins_second_factor_also_starts_a_fresh_session(client, admin_user, clock):
    csrf_token(client, "/auth/login")
    with client.session_transaction() as planted:
        planted["attacker"] = "chosen value"
    clock.advance(seconds=30)
    sign_in(client, ADMIN_EMAIL)
    after_password = session_cookie(client)
    with client.session_transaction() as pending:
        assert "attacker" not in pending and "_user_id" not in pending  # not signed in until the code
    response = client.post(
        "/auth/totp", data={"code": admin_user.totp.at(clock()), "csrf_token": csrf_token(client, "/auth/totp")}
    )
    assert response.headers["Location"] == "/admin/"
    assert session_cookie(client) != after_password
    with client.session_transaction() as current:
        assert "pending_login" not in current and "attacker" not in current


def test_sign_out_changes_the_cookie_and_a_copy_of_the_old_one_stops_working(app, client, staff_user):
    sign_in(client, STAFF_EMAIL)
    signed_in = session_cookie(client)
    assert client.get("/staff/").status_code == 200
    sign_out(client)
    assert session_cookie(client) != signed_in
    thief = app.test_client()
    thief.set_cookie(COOKIE, signed_in)  # copied while it was good, used after sign-out
    response = thief.get("/staff/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")


def test_an_admin_cookie_copied_before_sign_out_stops_working_too(app, client, admin_user, clock):
    admin_sign_in(client, admin_user, clock)
    copied = session_cookie(client)
    sign_out(client)
    thief = app.test_client()
    thief.set_cookie(COOKIE, copied)
    assert thief.get("/admin/").status_code == 302


def test_cookie_flags_in_development_and_tests(client, staff_user):
    response = sign_in(client, STAFF_EMAIL)
    (cookie,) = [c for c in set_cookie_headers(response) if c.startswith(f"{COOKIE}=")]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert not any(c.startswith("remember_token=") for c in set_cookie_headers(response))  # no long-lived login


def test_production_cookies_are_secure_httponly_and_lax_and_hsts_is_sent(app):
    production = create_app(
        "production",
        {
            "SECRET_KEY": "p" * 40,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "DSR_UPLOAD_DIR": app.config["DSR_UPLOAD_DIR"],
        },
    )
    assert production.config["SESSION_COOKIE_SECURE"] and production.config["REMEMBER_COOKIE_SECURE"]
    response = production.test_client().get("/auth/login", base_url="https://privacy.acme.example")
    (cookie,) = [c for c in set_cookie_headers(response) if c.startswith(f"{COOKIE}=")]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert int(production.config["PERMANENT_SESSION_LIFETIME"]) <= 12 * 3600  # sessions end; cookies are checked

"""Headers, error pages and the health check."""

import pytest

from dsr import create_app


def test_security_headers_on_every_page(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "strict-origin"  # never a path, so never a token
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_scripts_or_styles(client):
    html = client.get("/auth/login").get_data(as_text=True)
    assert "<script" not in html and "style=" not in html


def test_landing_page_lists_the_rights_from_the_profile(client):
    html = client.get("/").get_data(as_text=True)
    assert "Acme CRM (demo)" in html
    for label in ("Access my data", "Delete my data", "Withdraw consent / opt out", "Object to processing"):
        assert label in html


def test_custom_404(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_custom_500_without_leaking_details(tmp_path):
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internal detail ada@example.org")

    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body and "secret internal detail" not in body


def test_healthz_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(tmp_path):
    app = create_app("test", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing-dir/x.db"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "unreachable"


@pytest.mark.parametrize("path", ["/staff/", "/admin/"])
def test_protected_areas_redirect_to_sign_in(client, path):
    assert client.get(path).headers["Location"].startswith("/auth/login")

"""CSRF: every form POST without a valid token is refused for a signed-in user; the few endpoints that
take no token (signed webhooks, the API, one-click unsubscribe) answer to their own credential only,
never to a session cookie."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from dsr import create_app
from dsr.extensions import db
from dsr.models import DataSubjectRequest, FulfilmentTask, TaskStatus
from tests.security.conftest import CSRF_INPUT, Cast, csrf_token_of, sign_in_staff
from tests.security.routes import ROUTES, Route
from tests.security.test_access_matrix import url_for_case

# Documented exceptions: they are called by other programs or by mail clients, never from our forms.
EXEMPT_AREAS = {"hooks", "api", "api-public"}
EXEMPT_ENDPOINTS = {"public.unsubscribe"}  # RFC 8058 one-click: mail clients POST with no session at all
REFUSED = "This form has expired or was not sent from this site."

FORM_POSTS = [
    r for r in ROUTES if r.method == "POST" and r.area not in EXEMPT_AREAS and r.endpoint not in EXEMPT_ENDPOINTS
]
# Machine endpoints with a credential of their own; the API description (api-public) needs none by design.
MACHINE_ROUTES = [
    r for r in ROUTES if (r.area in EXEMPT_AREAS or r.endpoint in EXEMPT_ENDPOINTS) and r.area != "api-public"
]


def allowed_role(route: Route) -> str:
    """The signed-in role that could otherwise use the route (so only the missing token can refuse it)."""
    return {"requester": "requester", "staff": "staff", "public": "staff", "token": "staff"}.get(route.area, "admin")


def own_url(cast: Cast, route: Route) -> str:
    if route.area == "requester":
        return url_for_case(cast, route, reference=cast.mine.reference)
    return url_for_case(cast, route)


@pytest.mark.parametrize("route", FORM_POSTS, ids=[str(r) for r in FORM_POSTS])
def test_a_post_without_a_csrf_token_is_refused(cast, limiter_reset, route):
    client = cast.client(allowed_role(route))
    for data in ({}, {"csrf_token": "forged"}, {"csrf_token": cast.tokens["anonymous"]}):  # none, made up, another's
        response = client.post(own_url(cast, route), data=data)
        assert response.status_code == 400, f"{route} with {data}: {response.status_code}"
        assert REFUSED in response.get_data(as_text=True)


def test_the_form_posts_were_found(cast):
    areas = {r.area for r in FORM_POSTS}
    assert {"public", "requester", "token", "auth", "staff", "admin"} <= areas and len(FORM_POSTS) >= 39


@pytest.mark.parametrize("route", MACHINE_ROUTES, ids=[str(r) for r in MACHINE_ROUTES])
def test_machine_endpoints_ignore_session_cookies(cast, limiter_reset, route):
    """Signed in as an admin, with a valid CSRF token even: without the endpoint's own credential
    (signature, API key, signed token) nothing is let through."""
    url = url_for_case(cast, route)
    for data in ({}, {"csrf_token": cast.tokens["admin"]}):
        response = cast.admin.open(url, method=route.method, data=data)
        assert response.status_code in (400, 401, 403, 404, 410, 503), f"{route}: {response.status_code}"
        if route.area != "token" and route.endpoint not in EXEMPT_ENDPOINTS:
            assert response.is_json, f"{route} answered {response.mimetype}"


def test_a_waiting_erasure_callback_still_needs_its_signature(app, cast, limiter_reset):
    with app.app_context():
        task = FulfilmentTask(
            request_id=cast.mine.id,
            system_key="billing_partner",  # a webhook system of datasets/demo.yaml, with a secret
            external_ref="job-csrf-check",
            title="Waiting for billing_partner",
            instructions="callback",
        )
        db.session.add(task)
        db.session.commit()
        body = json.dumps({"status": "erased"})
        response = cast.admin.post(
            "/hooks/erasure/job-csrf-check", data=body, headers={"X-CSRFToken": cast.tokens["admin"]}
        )
        assert response.status_code == 403 and response.is_json
        db.session.expire_all()
        assert db.session.get(FulfilmentTask, task.id).status is TaskStatus.OPEN


def test_the_api_does_not_accept_an_admin_cookie(app, cast, limiter_reset):
    api_posts = [r for r in ROUTES if r.area == "api" and r.method == "POST"]
    assert api_posts, "the API's POST routes were not found"
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(DataSubjectRequest))
        for route in api_posts:
            response = cast.admin.post(url_for_case(cast, route), json={"request_type": "access"})
            assert response.status_code == 401 and response.is_json, route
        assert db.session.scalar(select(func.count()).select_from(DataSubjectRequest)) == before


def test_a_token_from_before_sign_in_is_dead_after_it(app, cast, limiter_reset):
    client = app.test_client()
    before = csrf_token_of(client, "/auth/login")
    client.post("/auth/login", data={"email": "sam@acme-crm.example", "password": "x" * 12, "csrf_token": before})
    signed_in = sign_in_staff(app, "sam@acme-crm.example")
    note = f"/staff/requests/{cast.mine.reference}/note"
    assert signed_in.post(note, data={"note-body": "hi", "csrf_token": before}).status_code == 400


def test_over_https_a_foreign_referer_is_refused_and_our_own_origin_accepted(app):
    """Browsers send only our origin (Referrer-Policy: strict-origin), which is what the HTTPS check needs."""
    secure = create_app(
        "production",
        {
            "SECRET_KEY": "s" * 40,
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "DSR_UPLOAD_DIR": app.config["DSR_UPLOAD_DIR"],
        },
    )
    client = secure.test_client()
    page = client.get("/status", base_url="https://privacy.acme.example")
    assert page.headers["Referrer-Policy"] == "strict-origin"
    token = CSRF_INPUT.search(page.get_data(as_text=True)).group(1)
    form = {"csrf_token": token, "reference": "not a reference", "email": "x"}
    post = lambda referer: client.post(  # noqa: E731
        "/status", data=form, base_url="https://privacy.acme.example", headers={"Referer": referer} if referer else {}
    )
    assert post("https://privacy.acme.example").status_code == 200  # the form again, with its errors
    assert post("https://evil.example/").status_code == 400
    assert post(None).status_code == 400

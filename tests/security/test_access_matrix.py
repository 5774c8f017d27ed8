"""Every route × every role: anonymous, a requester holding a status grant for their own request, staff
and admin. Each route class has one designed outcome per role; ids that can be guessed reach nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from werkzeug.routing import IntegerConverter

from dsr import create_app
from tests.security.conftest import ROLES, Cast, assert_strict_csp
from tests.security.routes import ROUTES, Route

FORGED_TOKEN = "IkRTUi0yMDI2LUFBQUEtQkJCQiI.aQ0vlg.forged-signature-xxxxxxxxxxx"
STATIC_FILE = "css/app.css"


@dataclass(frozen=True)
class Outcome:
    statuses: tuple[int, ...]
    location: str | None = None  # where a redirect must point (prefix)
    json: bool = False

    def __str__(self) -> str:
        return f"{'/'.join(map(str, self.statuses))}{' → ' + self.location if self.location else ''}"


OK = Outcome((200,))
TO_SIGN_IN = Outcome((302,), "/auth/login")
TO_STATUS_LOOKUP = Outcome((302,), "/status")
FORBIDDEN = Outcome((403,))
NOT_FOR_MACHINES = Outcome((401, 403, 404, 503), json=True)  # no signature / key: refused, in JSON
NEEDS_A_KEY = Outcome((401,), json=True)
TOKEN_REFUSED = Outcome((302, 400, 404, 410))  # and never into a request page (checked below)


def designed(route: Route, role: str) -> Outcome | None:
    """The outcome the design promises; None where the request would change state for someone allowed
    to change it (those paths have behaviour tests of their own; here CSRF covers them)."""
    signed_in = role in ("staff", "admin")
    area, method = route.area, route.method
    if area == "static":
        return OK
    if area == "public":
        return OK  # open pages; an empty POST re-renders its form with the errors
    if area == "token":
        return TOKEN_REFUSED  # a token nobody issued
    if area == "requester":
        return TO_STATUS_LOOKUP  # someone else's request: only a status link for it opens it
    if area in ("hooks",):
        return NOT_FOR_MACHINES
    if area == "api":
        return NEEDS_A_KEY  # cookies count for nothing here, an admin's included
    if area == "api-public":
        return Outcome((200,), json=True) if method == "GET" else NEEDS_A_KEY
    if area == "auth":
        if route.endpoint == "auth.logout":
            return None
        if route.endpoint == "auth.login":
            return Outcome((302,), "/staff/" if role == "staff" else "/admin/") if signed_in else OK
        return TO_SIGN_IN  # the second factor and its QR code exist only during a pending sign-in
    if not signed_in:
        return TO_SIGN_IN
    if area == "admin" and role == "staff":
        return FORBIDDEN
    return OK if method == "GET" else None


CASES = [(route, role) for route in ROUTES for role in ROLES if designed(route, role) is not None]


def url_for_case(cast: Cast, route: Route, **override: str) -> str:
    values = {}
    for name in route.arguments:
        if name == "token":
            values[name] = FORGED_TOKEN
        elif name == "filename":
            values[name] = STATIC_FILE
        elif name == "reference" and route.area == "requester":
            values[name] = cast.other.reference
        else:
            values[name] = cast.samples.get(name, "no-such-thing")
    values.update(override)
    return cast.urls.build(route.endpoint, values, method=route.method)


def send(cast: Cast, role: str, method: str, url: str):
    client = cast.client(role)
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"csrf_token": cast.tokens[role]})


@pytest.mark.parametrize(("route", "role"), CASES, ids=[f"{route} as {role}" for route, role in CASES])
def test_route_answers_each_role_as_designed(cast, limiter_reset, route, role):
    expected = designed(route, role)
    if route.area in ("staff", "admin") and expected is OK and set(route.arguments) - set(cast.samples):
        expected = Outcome((200, 404))  # a route added since: allowed in, though the sample id is made up
    response = send(cast, role, route.method, url_for_case(cast, route))
    assert response.status_code in expected.statuses, f"{route} as {role}: {response.status_code}, not {expected}"
    location = response.headers.get("Location", "")
    if expected.location:
        assert location.startswith(expected.location), f"{route} as {role} went to {location}"
    if route.area == "token":
        assert not location.startswith("/my-request/"), "a forged token opened a request page"
    if expected.json:
        assert response.is_json, f"{route} answered {response.mimetype}, not JSON"
    assert_strict_csp(response)


def test_every_post_only_route_refuses_get(cast, limiter_reset):
    posts = {r.rule for r in ROUTES if r.method == "POST"} - {r.rule for r in ROUTES if r.method == "GET"}
    assert posts
    for route in (r for r in ROUTES if r.rule in posts):
        assert cast.admin.get(url_for_case(cast, route)).status_code == 405, route


def test_no_route_takes_a_sequential_number():
    app = create_app("test")
    numeric = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if any(isinstance(converter, IntegerConverter) for converter in rule._converters.values())
    ]
    assert numeric == []


def guessable_cases():
    for route in ROUTES:
        if route.area not in ("staff", "admin") or not route.arguments:
            continue
        for name in route.arguments:
            if name != "action":
                yield route, name


GUESSES = list(guessable_cases())


@pytest.mark.parametrize(("route", "argument"), GUESSES, ids=[f"{r} <{a}>" for r, a in GUESSES])
def test_guessed_ids_reach_nothing_even_for_an_admin(cast, limiter_reset, route, argument):
    """Sequential numbers, and the real row's own primary key, in place of each id in the path."""
    for guess in ("1", "2", str(cast.ids.get(argument, 3))):
        response = send(cast, "admin", route.method, url_for_case(cast, route, **{argument: guess}))
        assert response.status_code == 404, f"{route} with {argument}={guess}: {response.status_code}"


STAFF_REQUEST_ROUTES = [r for r in ROUTES if r.area == "staff" and "reference" in r.arguments]


@pytest.mark.parametrize("route", STAFF_REQUEST_ROUTES, ids=[str(r) for r in STAFF_REQUEST_ROUTES])
def test_a_colleagues_confidential_request_does_not_exist_for_staff(cast, limiter_reset, route):
    response = send(cast, "staff", route.method, url_for_case(cast, route, reference=cast.confidential.reference))
    assert response.status_code == 404, f"{route}: {response.status_code}"


def test_a_requester_reaches_their_own_request_and_nothing_else(cast, limiter_reset):
    own = f"/my-request/{cast.mine.reference}"
    page = cast.requester.get(own)
    assert page.status_code == 200 and cast.mine.reference in page.get_data(as_text=True)
    assert cast.requester.get(own + "/preferences").status_code == 200
    for reference in (cast.other.reference, cast.confidential.reference, str(cast.mine.id), "1"):
        for path in (f"/my-request/{reference}", f"/my-request/{reference}/preferences"):
            response = cast.requester.get(path)
            assert response.status_code == 302 and response.headers["Location"] == "/status", path
    # The requester's grant opens nothing of the staff area.
    assert cast.requester.get(f"/staff/requests/{cast.mine.reference}").headers["Location"].startswith("/auth/login")


def test_references_and_public_ids_are_random(cast):
    from dsr.models.request import new_reference
    from dsr.models.user import new_public_id

    references = {new_reference(2026) for _ in range(500)}
    assert len(references) == 500  # 32^8 possibilities: neighbours say nothing about each other
    assert len({new_public_id() for _ in range(500)}) == 500 and len(new_public_id()) >= 16
    assert cast.mine.reference[-9:] != cast.other.reference[-9:]

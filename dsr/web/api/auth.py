"""Who is calling: the bearer key, checked before any API view runs; each view names the scope it needs.

The check sits in the blueprint's before_request, so a new endpoint is closed by default: it answers
403 until it declares a scope with @requires_scope (or @public for the OpenAPI document).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Response, current_app, g, request
from flask_limiter.util import get_remote_address

from dsr.domain.api import Scope
from dsr.encryption import derived_key
from dsr.extensions import db
from dsr.models import ApiKey
from dsr.services.api_keys import Authentication, Refusal, authenticate, touch
from dsr.web.api.errors import api_error
from dsr.web.sessions import now

PUBLIC = "public"
View = TypeVar("View", bound=Callable)

REFUSALS = {
    Refusal.MALFORMED: (
        "malformed_key",
        "That is not a DSR Desk API key: they look like dsr_<10 characters>_<43 characters>.",
    ),
    Refusal.UNKNOWN: (
        "unknown_key",
        "This API key is not known. Check that it was copied whole, or ask an admin for one.",
    ),
    Refusal.REVOKED: ("revoked_key", "This API key was revoked by an admin. Ask an admin for a new one."),
}


def requires_scope(scope: Scope) -> Callable[[View], View]:
    def mark(view: View) -> View:
        view.api_scope = scope
        return view

    return mark


def public(view: View) -> View:
    view.api_scope = PUBLIC
    return view


def required_scope(endpoint: str | None) -> Scope | str | None:
    view = current_app.view_functions.get(endpoint or "")
    return getattr(view, "api_scope", None)


def bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def authentication() -> Authentication | None:
    """The presented key, looked up once per call (the rate limiter asks first); None without one."""
    if "api_authentication" not in g:
        token = bearer_token()
        hash_key = derived_key(current_app.config, "api_hash")
        g.api_authentication = authenticate(db.session, hash_key, token) if token else None
    return g.api_authentication


def rate_limit_key() -> str:
    """Calls are counted per key; calls without a valid key per client address."""
    found = authentication()
    if found is not None and found.key is not None:
        return f"api-key:{found.key.public_id}"
    return f"api-client:{get_remote_address()}"


def check_access() -> Response | None:
    scope = required_scope(request.endpoint)
    if scope == PUBLIC:
        return None
    if not request.headers.get("Authorization"):
        return api_error(401, "Send an API key in the header 'Authorization: Bearer <key>'.", "missing_key")
    found = authentication()
    if found is None:
        return api_error(401, "The Authorization header must be 'Bearer <key>'.", "malformed_key")
    if found.key is None:
        code, reason = REFUSALS[found.refusal]
        return api_error(401, reason, code)
    if scope is None:
        return api_error(403, "No API key may use this endpoint.", "insufficient_scope")
    if scope not in found.key.scopes:
        reason = f"This API key does not have the scope {scope}. An admin can create a key that has it."
        return api_error(403, reason, "insufficient_scope", scope=str(scope))
    if touch(found.key, now()):
        db.session.commit()
    return None


def current_key() -> ApiKey:
    return g.api_authentication.key

"""The OpenAPI 3.1 document of /api/v1: its paths, security and examples. The API checks what it is sent
against this document (dsr.web.api.schema), and the tests check every answer against it."""

from __future__ import annotations

from typing import Any

from dsr.domain.api import Scope
from dsr.domain.profile import OrganisationProfile
from dsr.domain.requests import RequestType
from dsr.web.api.openapi_schemas import EMAIL_PATTERN, component_schemas
from dsr.web.api.webhook_docs import webhooks
from dsr.web.public.forms import PHONE_PATTERN

DESCRIPTION = """\
Other systems of the organisation (a support desk, a CRM, a marketing platform) file data-subject
requests, follow them, and read consent and suppression state here.

**Authentication.** Every endpoint but this document needs `Authorization: Bearer <key>`. Admins create
keys under Admin → API keys; each key has scopes, and an endpoint answers 403 to a key without its scope.
No cookies, no CSRF token.

**Errors.** Every error is JSON `{"error": <code>, "reason": <sentence>, "status": <HTTP status>}`;
422 adds `fields`, one message per JSON field (`requester.email`, `corrections[0].value`), and 403 adds
the missing `scope`. Unknown paths answer 404 and other methods 405, in the same form. Text must be
valid Unicode without the NUL character (U+0000).

**Rate limits.** Calls are counted per key (`X-RateLimit-*` headers); over the limit the answer is 429
with `Retry-After`.
"""


def _response(description: str, schema: str, headers: dict | None = None) -> dict:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }
    if headers:
        response["headers"] = headers
    return response


RESPONSES = {
    "Unauthorized": _response("No key, not a key, an unknown key or a revoked key.", "Unauthorized"),
    "Forbidden": _response("The key lacks the scope this endpoint needs (named in `scope`).", "Forbidden"),
    "ValidationFailed": _response("What was sent is not valid; `fields` says why, per field.", "ValidationFailed"),
    "RateLimited": _response(
        "Too many calls with this key.", "RateLimited", {"Retry-After": {"schema": {"type": "integer"}}}
    ),
}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/responses/{name}"}


def _guarded(scope: Scope, operation: dict, *extra_codes: str) -> dict:
    """An operation behind a key with `scope`: the 401, 403 and 429 answers every such endpoint can give."""
    responses = operation.pop("responses")
    return {
        **operation,
        "security": [{"bearerKey": [scope.value]}],
        "responses": {
            **responses,
            "401": _ref("Unauthorized"),
            "403": _ref("Forbidden"),
            **{code: _ref(name) for code, name in extra_codes},
            "429": _ref("RateLimited"),
        },
    }


def _lookup_parameter(name: str, description: str, example: str, **schema: Any) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": {"type": "string", "minLength": 1, **schema},
        "example": example,
    }


EMAIL_PARAMETER = _lookup_parameter(
    "email", "The person's email address.", "ada@example.org",
    maxLength=254, pattern=EMAIL_PATTERN, **{"x-pattern-message": "Enter an email address like name@example.com."},
)  # fmt: skip
PHONE_PARAMETER = _lookup_parameter(
    "phone", "The person's phone number.", "+44 7700 900123",
    maxLength=32, pattern=PHONE_PATTERN, **{"x-pattern-message": "Enter a phone number like +44 7700 900123."},
)  # fmt: skip
CUSTOMER_PARAMETER = _lookup_parameter("customer_id", "The person's customer id.", "C-1042", maxLength=100)


def _paths() -> dict:
    return {
        "/requests": {
            "post": _guarded(
                Scope.REQUESTS_WRITE,
                {
                    "operationId": "createRequest",
                    "summary": "File a request on a person's behalf",
                    "description": (
                        "For channels such as the support desk. The requester still proves who they are: they are "
                        "emailed a code and a single-use link, exactly as after the web form, and staff see the "
                        "request in their queue with source `api`."
                    ),
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewRequest"}}},
                    },
                    "responses": {
                        "201": _response(
                            "Filed; the verification email is queued.",
                            "RequestCreated",
                            {"Location": {"schema": {"type": "string"}, "description": "The status URL."}},
                        ),
                        "400": _response("The body is not JSON.", "BadBody"),
                        "415": _response("The body is not sent as application/json.", "UnsupportedMediaType"),
                    },
                },
                ("422", "ValidationFailed"),
            )
        },
        "/requests/{reference}": {
            "get": _guarded(
                Scope.REQUESTS_READ,
                {
                    "operationId": "getRequest",
                    "summary": "A request's status, type and dates",
                    "description": (
                        "Any request of the organisation, whichever channel filed it (keys are organisation-wide), "
                        "except confidential ones. Never the requester's name, contact details or what they wrote."
                    ),
                    "parameters": [
                        {
                            "name": "reference",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                            "example": "DSR-2026-7K3Q-M9XD",
                        }
                    ],
                    "responses": {
                        "200": _response("The request.", "RequestStatus"),
                        "404": _response("No request with this reference.", "NotFound"),
                    },
                },
            )
        },
        "/subjects/consent": {
            "get": _guarded(
                Scope.CONSENT_READ,
                {
                    "operationId": "getConsentState",
                    "summary": "A person's consents, restrictions and objections",
                    "description": (
                        "By email or phone (one is enough; with both, the email's record wins). Every topic and "
                        "purpose of the organisation is listed; a person never seen reads `no_record` throughout. "
                        "Only identifiers the person verified find them."
                    ),
                    "parameters": [EMAIL_PARAMETER, PHONE_PARAMETER],
                    "responses": {"200": _response("The current state per topic and purpose.", "ConsentState")},
                },
                ("422", "ValidationFailed"),
            )
        },
        "/suppression": {
            "get": _guarded(
                Scope.SUPPRESSION_READ,
                {
                    "operationId": "checkSuppression",
                    "summary": "Is this person on the do-not-contact list?",
                    "description": "True when any identifier given belongs to someone whose data was erased.",
                    "parameters": [EMAIL_PARAMETER, PHONE_PARAMETER, CUSTOMER_PARAMETER],
                    "responses": {"200": _response("The answer.", "Suppression")},
                },
                ("422", "ValidationFailed"),
            )
        },
        "/openapi.json": {
            "get": {
                "operationId": "getOpenApi",
                "summary": "This document (no key needed)",
                "security": [],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "429": _ref("RateLimited"),
                },
            }
        },
    }


def request_examples(profile: OrganisationProfile) -> dict[str, dict]:
    """Example bodies, each valid for this profile (only the types it offers)."""
    requester = {"name": "Ada Lovelace", "email": "ada@example.org"}
    candidates = {
        RequestType.ACCESS: {"type": "access", "requester": {**requester, "account_number": "C-1042"}},
        RequestType.DELETION: {
            "type": "deletion",
            "jurisdiction": profile.default_jurisdiction.value,
            "requester": {**requester, "phone": "+44 7700 900123"},
            "details": "Asked on the phone to support, ticket 5521.",
        },
        RequestType.CORRECTION: {
            "type": "correction",
            "requester": requester,
            "corrections": [{"field": "Postal address", "value": "12 St James's Square, London"}],
        },
        RequestType.CONSENT_WITHDRAWAL: {
            "type": "consent_withdrawal",
            "requester": {"name": "Charles Babbage", "email": "charles@example.org"},
            "consent_topics": [t.key for t in profile.consent_topics[:1]],
            "agent": {
                "acting_for": "Ada Lovelace",
                "authority": "Signed letter of authority, scanned into ticket 5522.",
            },
        },
        RequestType.OBJECTION: {
            "type": "objection",
            "requester": requester,
            "purposes": [p.key for p in profile.purposes[-1:]],
        },
    }
    return {
        str(kind): {"summary": f"{kind.label}", "value": body}
        for kind, body in candidates.items()
        if kind in profile.rights and (kind is not RequestType.CONSENT_WITHDRAWAL or profile.consent_topics)
        and (kind is not RequestType.OBJECTION or profile.purposes)
    }  # fmt: skip


def openapi_document(profile: OrganisationProfile, server_url: str) -> dict:
    paths = _paths()
    content = paths["/requests"]["post"]["requestBody"]["content"]["application/json"]
    content["examples"] = request_examples(profile)
    return {
        "openapi": "3.1.0",
        "info": {"title": f"DSR Desk API · {profile.name}", "version": "1.0.0", "description": DESCRIPTION},
        "servers": [{"url": server_url}],
        "security": [{"bearerKey": []}],
        "paths": paths,
        "webhooks": webhooks(),
        "components": {
            "securitySchemes": {
                "bearerKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API key from Admin → API keys: dsr_<10 characters>_<43 characters>.",
                }
            },
            "schemas": component_schemas(profile),
            "responses": RESPONSES,
        },
    }

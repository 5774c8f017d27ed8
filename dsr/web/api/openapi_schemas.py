"""The schemas of the OpenAPI document: request bodies and answers, from this organisation's profile
(its rights, jurisdictions, consent topics and purposes are the enums; lengths come from the intake form)."""

from __future__ import annotations

from typing import Any

from dsr.domain.api import Scope
from dsr.domain.consent import ConsentSource
from dsr.domain.lifecycle import CLOSED_STATUSES, Status
from dsr.domain.profile import OrganisationProfile
from dsr.domain.requests import RejectionReason, RequestType
from dsr.web.api.answers import REFERENCE_FORMAT
from dsr.web.api.forms import FIELDS, correction_max_length, max_corrections, max_length
from dsr.web.api.webhook_docs import webhook_schemas

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+$"
REFERENCE = f"^{REFERENCE_FORMAT.pattern}$"
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
UNAUTHORIZED = ["missing_key", "malformed_key", "unknown_key", "revoked_key"]


def _string(form_field: str | None = None, **extra: Any) -> dict:
    schema: dict[str, Any] = {"type": "string", **extra}
    longest = max_length(form_field) if form_field else None
    if longest:
        schema["maxLength"] = longest
    return schema


def _error(codes: list[str], **properties: dict) -> dict:
    return {
        "type": "object",
        "required": ["error", "reason", "status"],
        "additionalProperties": False,
        "properties": {
            "error": {"type": "string", "enum": codes},
            "reason": {"type": "string", "description": "What went wrong and what to do, for a person to read."},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            **properties,
        },
    }


def _new_request_schema(profile: OrganisationProfile) -> dict:
    requester = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "email"],
        "properties": {
            "name": _string(FIELDS["requester.name"], minLength=1),
            "email": _string(FIELDS["requester.email"], format="email"),
            "phone": _string(
                FIELDS["requester.phone"], description="Needed for deletion requests (a second code by SMS)."
            ),
            "account_number": _string(FIELDS["requester.account_number"], description="A customer or account number."),
        },
    }
    correction = {
        "type": "object",
        "additionalProperties": False,
        "required": ["field", "value"],
        "properties": {
            "field": {
                "type": "string",
                "minLength": 1,
                "maxLength": correction_max_length("field"),
                "description": "What is wrong.",
            },
            "value": {
                "type": "string",
                "minLength": 1,
                "maxLength": correction_max_length("value"),
                "description": "What it should say.",
            },
        },
    }
    agent = {
        "type": ["object", "null"],
        "additionalProperties": False,
        "required": ["acting_for", "authority"],
        "description": "When the requester is an authorised agent acting for someone else.",
        "properties": {
            "acting_for": _string(FIELDS["agent.acting_for"], description="The full name of the person they act for."),
            "authority": _string(
                FIELDS["agent.authority"], description="How they are authorised (a signed permission…)."
            ),
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["type", "requester"],
        "description": (
            "Checked like the public request form: correction needs at least one correction, consent withdrawal "
            "at least one topic, restriction and objection at least one purpose, deletion a phone number."
        ),
        "properties": {
            "type": {"type": "string", "enum": [t.value for t in profile.rights]},
            "jurisdiction": {
                "type": "string",
                "enum": [j.value for j in profile.jurisdictions],
                "default": profile.default_jurisdiction.value,
            },
            "requester": requester,
            "details": _string(FIELDS["details"]),
            "corrections": {"type": "array", "maxItems": max_corrections(), "items": correction},
            "consent_topics": {
                "type": "array",
                "uniqueItems": True,
                "items": {"type": "string", "enum": [t.key for t in profile.consent_topics]},
            },
            "purposes": {
                "type": "array",
                "uniqueItems": True,
                "items": {"type": "string", "enum": [p.key for p in profile.purposes]},
            },
            "agent": agent,
        },
    }


def _request_schemas(profile: OrganisationProfile) -> dict:
    types = {"type": "string", "enum": [t.value for t in RequestType]}
    statuses = {"type": "string", "enum": [s.value for s in Status]}
    return {
        "NewRequest": _new_request_schema(profile),
        "RequestCreated": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "reference",
                "status",
                "type",
                "jurisdiction",
                "received_at",
                "due_on",
                "verification",
                "status_url",
            ],
            "properties": {
                "reference": {"type": "string", "pattern": REFERENCE},
                "status": {"type": "string", "const": Status.SUBMITTED.value},
                "type": types,
                "jurisdiction": {"type": "string"},
                "received_at": {"type": "string", "format": "date-time"},
                "due_on": {"type": ["string", "null"], "format": "date"},
                "verification": {
                    "type": "string",
                    "const": "email_sent",
                    "description": "The requester was emailed a code and a link; work starts once they confirm.",
                },
                "status_url": {"type": "string", "description": "Where to GET the request's status."},
            },
        },
        "RequestStatus": {
            "type": "object",
            "additionalProperties": False,
            "required": [
                "reference",
                "type",
                "status",
                "jurisdiction",
                "source",
                "received_at",
                "verified_at",
                "due_on",
                "extended",
                "clock_paused",
                "closed_at",
                "outcome",
                "rejection_reason",
            ],  # fmt: skip
            "properties": {
                "reference": {"type": "string", "pattern": REFERENCE},
                "type": types,
                "status": statuses,
                "jurisdiction": {"type": "string"},
                "source": {"type": "string", "enum": ["web", "api"]},
                "received_at": {"type": "string", "format": "date-time"},
                "verified_at": NULLABLE_TIME,
                "due_on": {"type": ["string", "null"], "format": "date"},
                "extended": {"type": "boolean"},
                "clock_paused": {"type": "boolean"},
                "closed_at": NULLABLE_TIME,
                "outcome": {"type": ["string", "null"], "enum": [s.value for s in CLOSED_STATUSES] + [None]},
                "rejection_reason": {"type": ["string", "null"], "enum": [r.value for r in RejectionReason] + [None]},
            },
        },
    }


def _state_schemas(profile: OrganisationProfile) -> dict:
    return {
        "ConsentState": {
            "type": "object",
            "additionalProperties": False,
            "required": ["topics", "purposes"],
            "properties": {
                "topics": {"type": "array", "items": {"$ref": "#/components/schemas/TopicState"}},
                "purposes": {"type": "array", "items": {"$ref": "#/components/schemas/PurposeState"}},
            },
        },
        "TopicState": {
            "type": "object",
            "additionalProperties": False,
            "required": ["topic", "label", "purpose", "state", "since", "source"],
            "properties": {
                "topic": {"type": "string", "enum": [t.key for t in profile.consent_topics]},
                "label": {"type": "string"},
                "purpose": {"type": "string"},
                "state": {"type": "string", "enum": ["granted", "withdrawn", "no_record"]},
                "since": NULLABLE_TIME,
                "source": {"type": ["string", "null"], "enum": [s.value for s in ConsentSource] + [None]},
            },
        },
        "PurposeState": {
            "type": "object",
            "additionalProperties": False,
            "required": ["purpose", "label", "restricted", "objected", "since"],
            "properties": {
                "purpose": {"type": "string", "enum": [p.key for p in profile.purposes]},
                "label": {"type": "string"},
                "restricted": {"type": "boolean"},
                "objected": {"type": "boolean"},
                "since": NULLABLE_TIME,
            },
        },
        "Suppression": {
            "type": "object",
            "additionalProperties": False,
            "required": ["suppressed"],
            "properties": {"suppressed": {"type": "boolean"}},
        },
    }


def _error_schemas() -> dict:
    return {
        "Unauthorized": _error(UNAUTHORIZED),
        "Forbidden": _error(["insufficient_scope"], scope={"type": "string", "enum": [s.value for s in Scope]}),
        "NotFound": _error(["not_found"]),
        "ValidationFailed": _error(
            ["validation_failed"], fields={"type": "object", "additionalProperties": {"type": "string"}}
        ),
        "BadBody": _error(["invalid_json"]),
        "UnsupportedMediaType": _error(["unsupported_media_type"]),
        "RateLimited": _error(["rate_limited"]),
        "Error": _error(
            ["method_not_allowed", "not_found", "too_large", "bad_request", "internal_error", "unavailable"]
        ),
    }


def component_schemas(profile: OrganisationProfile) -> dict[str, Any]:
    return {
        **_request_schemas(profile),
        **_state_schemas(profile),
        **_error_schemas(),
        **webhook_schemas(profile),
    }

"""The outgoing webhooks in the OpenAPI document: the payloads dsr.services.webhook_events sends and
the headers every delivery carries (dsr.sources.webhook signs them)."""

from __future__ import annotations

from dsr.domain.api import WebhookEvent
from dsr.domain.consent import ConsentSource
from dsr.domain.lifecycle import Action, Status
from dsr.domain.profile import OrganisationProfile
from dsr.domain.requests import RejectionReason, RequestType
from dsr.sources.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER

HEADERS = [
    {
        "name": TIMESTAMP_HEADER,
        "in": "header",
        "required": True,
        "description": "Unix seconds when this attempt was sent; refuse values more than five minutes away.",
        "schema": {"type": "string", "pattern": r"^\d+$"},
    },
    {
        "name": SIGNATURE_HEADER,
        "in": "header",
        "required": True,
        "description": 'sha256=<hex HMAC-SHA256(secret, "<timestamp>." + raw body)>',
        "schema": {"type": "string", "pattern": r"^sha256=[0-9a-f]{64}$"},
    },
    {
        "name": "Idempotency-Key",
        "in": "header",
        "required": True,
        "description": "The same on every attempt of one delivery: drop a delivery you already processed.",
        "schema": {"type": "string"},
    },
]


def _envelope(kind: WebhookEvent, data: dict) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "type", "created_at", "data"],
        "properties": {
            "id": {"type": "string", "pattern": "^evt_[0-9a-f]{24}$", "description": "The same for every subscriber."},
            "type": {"type": "string", "const": kind.value},
            "created_at": {"type": "string", "format": "date-time"},
            "data": data,
        },
    }


def webhook_schemas(profile: OrganisationProfile) -> dict:
    nullable_string = {"type": ["string", "null"]}
    request_data = {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "reference",
            "request_type",
            "jurisdiction",
            "source",
            "previous_status",
            "status",
            "action",
            "rejection_reason",
            "due_on",
        ],  # fmt: skip
        "properties": {
            "reference": {"type": "string"},
            "request_type": {"type": "string", "enum": [t.value for t in RequestType]},
            "jurisdiction": {"type": "string"},
            "source": {"type": "string", "enum": ["web", "api"]},
            "previous_status": {"type": "string", "enum": [s.value for s in Status]},
            "status": {"type": "string", "enum": [s.value for s in Status]},
            "action": {"type": "string", "enum": [a.value for a in Action]},
            "rejection_reason": {"type": ["string", "null"], "enum": [r.value for r in RejectionReason] + [None]},
            "due_on": {"type": ["string", "null"], "format": "date"},
        },
    }
    consent_data = {
        "type": "object",
        "additionalProperties": False,
        "required": [
            "subject",
            "topic",
            "purpose",
            "granted",
            "occurred_at",
            "source",
            "current_state",
            "request_reference",
        ],  # fmt: skip
        "properties": {
            "subject": {"type": "string", "description": "DSR Desk's opaque, stable id for the person."},
            "topic": {"type": "string", "enum": [t.key for t in profile.consent_topics]},
            "purpose": nullable_string,
            "granted": {"type": "boolean", "description": "This event: a grant (true) or a withdrawal (false)."},
            "occurred_at": {"type": "string", "format": "date-time"},
            "source": {"type": "string", "enum": [s.value for s in ConsentSource]},
            "current_state": {
                "type": "string",
                "enum": ["granted", "withdrawn", "no_record"],
                "description": "The topic's state after this event (a late event may not change it).",
            },
            "request_reference": nullable_string,
            "identifiers": {
                "type": "object",
                "additionalProperties": False,
                "required": ["emails", "phones"],
                "description": "Only to subscribers an admin allowed to receive identifiers: the verified ones.",
                "properties": {
                    "emails": {"type": "array", "items": {"type": "string"}},
                    "phones": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    }
    return {
        "RequestStatusChanged": _envelope(WebhookEvent.REQUEST_STATUS_CHANGED, request_data),
        "ConsentChanged": _envelope(WebhookEvent.CONSENT_CHANGED, consent_data),
    }


def _webhook(summary: str, schema: str) -> dict:
    return {
        "post": {
            "summary": summary,
            "parameters": HEADERS,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
            },
            "responses": {
                "200": {
                    "description": (
                        "Any 2xx: delivered. 408, 409, 425, 429, 5xx or no answer: retried (30 s, doubling, at "
                        "most an hour apart). Any other 4xx: given up, shown as failed in the delivery log."
                    )
                }
            },
        }
    }


def webhooks() -> dict:
    return {
        WebhookEvent.REQUEST_STATUS_CHANGED.value: _webhook(
            "A request changed status (never the requester's details)", "RequestStatusChanged"
        ),
        WebhookEvent.CONSENT_CHANGED.value: _webhook("A consent was granted or withdrawn", "ConsentChanged"),
    }

"""A request filed through the API is checked by the intake form's own rules, fed from JSON.

The JSON's shape (types, required and unknown fields) is checked against the OpenAPI document
(dsr.web.api.openapi); its content (lengths, formats, choices, what each type of request needs)
by the public intake form, so the form and the API can never disagree about what a valid request is.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms.validators import Length

from dsr.domain.profile import OrganisationProfile
from dsr.services.requests import NewRequest
from dsr.web.public.forms import CorrectionEntry, IntakeForm, intake_form
from dsr.web.public.views import new_request_from

# JSON path -> intake form field (nested objects are written with dots).
FIELDS = {
    "type": "request_type",
    "jurisdiction": "jurisdiction",
    "requester.name": "name",
    "requester.email": "email",
    "requester.phone": "phone",
    "requester.account_number": "data_point",
    "details": "details",
    "consent_topics": "consent_topics",
    "purposes": "purposes",
    "agent.acting_for": "subject_name",
    "agent.authority": "agent_authority",
}
CORRECTION_FIELDS = {"field": "field_name", "value": "new_value"}
JSON_PATHS = {field: path for path, field in FIELDS.items()}
CORRECTION_JSON_NAMES = {field: name for name, field in CORRECTION_FIELDS.items()}


class ApiRequestForm(IntakeForm):
    """The intake form without what only a browser sends: the CSRF token, the honeypot, the button.

    The privacy-notice tick box goes too: the requester is not there to tick it. The channel that
    files the request tells them, and the verification email links the organisation's notice.
    """

    class Meta:
        csrf = False

    privacy_ack = None
    website = None
    submit = None


def max_length(form_field: str, form_class: type = IntakeForm) -> int | None:
    """The Length(max=…) the form enforces on a field, for the OpenAPI document."""
    unbound = getattr(form_class, form_field)
    for validator in unbound.kwargs.get("validators", []):
        if isinstance(validator, Length) and validator.max not in (None, -1):
            return validator.max
    return None


def correction_max_length(json_name: str) -> int | None:
    return max_length(CORRECTION_FIELDS[json_name], CorrectionEntry)


def max_corrections() -> int:
    return IntakeForm.corrections.kwargs["max_entries"]


def _formdata(body: dict[str, Any], profile: OrganisationProfile) -> MultiDict:
    data: MultiDict = MultiDict()
    data["request_type"] = body["type"]
    data["jurisdiction"] = body.get("jurisdiction", profile.default_jurisdiction.value)
    for name, value in body["requester"].items():
        data[FIELDS[f"requester.{name}"]] = value
    data["details"] = body.get("details", "")
    for key in ("consent_topics", "purposes"):
        for value in body.get(key, []):
            data.add(key, value)
    for index, pair in enumerate(body.get("corrections", [])):
        for name, value in pair.items():
            data[f"corrections-{index}-{CORRECTION_FIELDS[name]}"] = value
    agent = body.get("agent")
    if agent is not None:
        data["is_agent"] = "y"
        data["subject_name"] = agent.get("acting_for", "")
        data["agent_authority"] = agent.get("authority", "")
    return data


def _field_errors(form: IntakeForm, corrections_sent: int) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, errors in form.errors.items():
        if name == "corrections":
            for index, entry in enumerate(errors):
                for sub, messages in (entry or {}).items():
                    json_name = CORRECTION_JSON_NAMES.get(sub, sub)
                    path = f"corrections[{index}].{json_name}" if index < corrections_sent else "corrections"
                    found[path] = " ".join(messages)
            continue
        found[JSON_PATHS.get(name, name)] = " ".join(str(message) for message in errors)
    return found


def new_request(body: dict[str, Any], profile: OrganisationProfile) -> tuple[NewRequest | None, dict[str, str]]:
    """The request to file, or the problems per JSON field. `body` already has the documented shape."""
    form = intake_form(profile, ApiRequestForm, formdata=_formdata(body, profile))
    if not form.validate():
        return None, _field_errors(form, len(body.get("corrections", [])))
    return dataclasses.replace(new_request_from(form), source="api", gpc=False), {}

"""/api/v1: other systems file requests, follow them, and read consent and suppression state.

Bearer keys instead of cookies (so no CSRF), calls counted per key, JSON in and out, and every
refusal a JSON error with a reason (dsr.web.api.errors). The OpenAPI document describes exactly this.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from dsr.domain.api import Scope
from dsr.encryption import derived_key
from dsr.extensions import csrf, db, limiter
from dsr.notify.links import Links
from dsr.services import intake
from dsr.services.api_keys import actor_for_key
from dsr.services.consent_state import consent_state_for, processing_limits_for
from dsr.services.suppression import is_suppressed
from dsr.web.api import answers
from dsr.web.api.auth import check_access, current_key, public, rate_limit_key, requires_scope
from dsr.web.api.errors import api_error
from dsr.web.api.forms import new_request
from dsr.web.api.openapi import openapi_document
from dsr.web.api.schema import problems
from dsr.web.consent import subject_keys
from dsr.web.public.requester import external_url, links, verification_settings, verify_page_token
from dsr.web.sessions import clock, now, organisation

bp = Blueprint("api", __name__)
csrf.exempt(bp)
limiter.shared_limit(lambda: current_app.config["DSR_API_RATE_LIMIT"], "api-v1", key_func=rate_limit_key)(bp)
bp.before_request(check_access)


def document() -> dict[str, Any]:
    """Built once per process and profile (it is also what request bodies are checked against)."""
    profile, server = organisation(), current_app.config["DSR_BASE_URL"].rstrip("/") + "/api/v1"
    cache = current_app.extensions.setdefault("dsr_openapi", {})
    if cache.get("for") != (id(profile), server):
        cache.update({"for": (id(profile), server), "document": openapi_document(profile, server)})
    return cache["document"]


def invalid(fields: dict[str, str]) -> Response:
    first = next(iter(fields.items()))
    return api_error(422, f"Some fields are not valid, starting with {first[0]}: {first[1]}", fields=fields)


def json_body() -> tuple[Any, Response | None]:
    if not request.is_json:
        return None, api_error(415, "Send the body as JSON, with the header 'Content-Type: application/json'.")
    try:
        return json.loads(request.get_data(cache=False)), None
    except json.JSONDecodeError as exc:
        return None, api_error(400, f"The body is not valid JSON: {exc.msg} at character {exc.pos}.", "invalid_json")
    except (ValueError, RecursionError):
        return None, api_error(400, "The body is not valid JSON (UTF-8, not nested too deeply).", "invalid_json")


def api_links() -> Links:
    """Requester links as after the web form, plus the code-entry page they never saw."""
    return dataclasses.replace(links(), verify_page=lambda r: external_url("public.verify", token=verify_page_token(r)))


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(document())


@bp.post("/requests")
@requires_scope(Scope.REQUESTS_WRITE)
def create_request():
    body, refused = json_body()
    if refused is not None:
        return refused
    new, fields = None, problems({"$ref": "#/components/schemas/NewRequest"}, body, document())
    if not fields:
        new, fields = new_request(body, organisation())
    if fields:
        return invalid(fields)
    actor = actor_for_key(current_key())

    def file_and_commit():
        filed = intake.file_request(db.session, now(), new, clock(), verification_settings(), api_links(), actor)
        db.session.commit()
        return filed

    filed = intake.retry_on_taken_reference(db.session, file_and_commit)
    location = external_url("api.request_status", reference=filed.reference)
    return jsonify(answers.created(filed, location)), 201, {"Location": location}


@bp.get("/requests/<reference>")
@requires_scope(Scope.REQUESTS_READ)
def request_status(reference: str):
    found = answers.visible_request(db.session, reference)
    if found is None:
        return api_error(404, "No request has this reference.")
    return jsonify(answers.status(found))


def lookup() -> tuple[dict[str, str], dict[str, str]]:
    """The identifiers asked about, checked against the documented parameters; problems per parameter."""
    parameters = document()["paths"][request.url_rule.rule.removeprefix("/api/v1")]["get"]["parameters"]
    given = {p["name"]: request.args[p["name"]] for p in parameters if p["name"] in request.args}
    fields: dict[str, str] = {}
    for parameter in parameters:
        if parameter["name"] in given:
            fields |= problems(parameter["schema"], given[parameter["name"]], {}, parameter["name"])
    if not given:
        names = [p["name"] for p in parameters]
        fields[names[0]] = "Give at least one of: " + ", ".join(names) + "."
    return given, fields


@bp.get("/subjects/consent")
@requires_scope(Scope.CONSENT_READ)
def consent_state():
    given, fields = lookup()
    if fields:
        return invalid(fields)
    profile, keys = organisation(), subject_keys()
    topics = consent_state_for(db.session, keys, profile, email=given.get("email"), phone=given.get("phone"))
    limits = processing_limits_for(db.session, keys, profile, email=given.get("email"), phone=given.get("phone"))
    return jsonify(topics=[t.as_dict() for t in topics], purposes=[p.as_dict() for p in limits])


@bp.get("/suppression")
@requires_scope(Scope.SUPPRESSION_READ)
def suppression():
    given, fields = lookup()
    if fields:
        return invalid(fields)
    key = derived_key(current_app.config, "suppression")
    return jsonify(suppressed=is_suppressed(db.session, key, **given))

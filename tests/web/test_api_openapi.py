"""The OpenAPI document matches the behaviour: every route is documented and every documented operation is
routed, with the scope it declares; every documented response is produced by a real call and matches its
schema; the examples are valid and accepted; and many malformed calls (a seeded generator, as a
property-based test would send) never crash the API and are always answered as the document says."""

from __future__ import annotations

import json
import os
import random
import re
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.domain.api import Scope
from dsr.models import ApiKey
from dsr.services.api_keys import revoke_api_key
from dsr.web.api.schema import problems, resolve
from tests.factories import make_request
from tests.web.api_support import ACCESS_REQUEST, bearer, make_key

PREFIX = "/api/v1"
SUPPORTED = {"$ref", "type", "properties", "required", "additionalProperties", "items", "enum", "const", "minLength",
             "maxLength", "minItems", "maxItems", "uniqueItems", "minimum", "maximum", "pattern", "format"}  # fmt: skip
ANNOTATIONS = {"description", "default", "title", "example", "x-pattern-message"}


@pytest.fixture
def document(client, session) -> dict:
    response = client.get(f"{PREFIX}/openapi.json")
    assert response.status_code == 200 and response.is_json
    return response.json


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def response_schema(document: dict, operation: dict, status: int) -> tuple[dict, dict]:
    declared = resolve(operation["responses"][str(status)], document)
    return declared["content"]["application/json"]["schema"], declared.get("headers", {})


def test_the_document_is_openapi_3_1_and_only_uses_what_the_checker_understands(document):
    assert document["openapi"] == "3.1.0" and document["servers"][0]["url"].endswith(PREFIX)
    assert len({op["operationId"] for _, _, op in operations(document)}) == len(list(operations(document)))

    def walk(node: Any, in_schema: bool = False) -> None:
        if isinstance(node, dict):
            if "$ref" in node:
                resolve(node, document)  # raises when the target is missing
            if in_schema:
                unknown = set(node) - SUPPORTED - ANNOTATIONS
                assert not unknown, f"schema keywords the checker would ignore: {unknown}"
                for key in ("items", "additionalProperties"):
                    if isinstance(node.get(key), dict):
                        walk(node[key], True)
                for child in node.get("properties", {}).values():
                    walk(child, True)
                return
            for key, value in node.items():
                walk(value, key == "schema" or in_schema)
        elif isinstance(node, list):
            for value in node:
                walk(value, in_schema)

    walk(document["paths"])
    walk(document["webhooks"])
    for schema in document["components"]["schemas"].values():
        walk(schema, True)


def test_every_route_is_documented_and_every_documented_operation_is_routed(app, document):
    routed = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule.removeprefix(PREFIX))
            routed |= {(path, method) for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert routed == {(path, method) for path, method, _ in operations(document)}


def test_each_operation_needs_exactly_the_scope_it_documents(app, document):
    adapter = app.url_map.bind("localhost")
    for path, method, operation in operations(document):
        endpoint, _ = adapter.match(PREFIX + path.replace("{reference}", "DSR-2026-AAAA-BBBB"), method=method)
        declared = getattr(app.view_functions[endpoint], "api_scope", None)
        documented = [scope for requirement in operation["security"] for scope in requirement.get("bearerKey", [])]
        assert documented == ([] if declared == "public" else [declared]), path


class Calls:
    """One real call for each documented (path, method, status)."""

    def __init__(self, client, session, app, monkeypatch) -> None:
        self.client, self.session, self.app, self.monkeypatch = client, session, app, monkeypatch
        self.key = make_key(session, name="Conformance")

    def send(self, method: str, path: str, key: str | None = "default", **kwargs):
        headers = bearer(self.key if key == "default" else key) if key else {}
        return self.client.open(PREFIX + path, method=method, headers=headers, **kwargs)

    def lacking_scope(self, method: str, path: str, scope: Scope, **kwargs):
        return self.send(method, path, make_key(self.session, [s for s in Scope if s is not scope], "Narrow"), **kwargs)

    def rate_limited(self, method: str, path: str, **kwargs):
        self.monkeypatch.setitem(self.app.config, "DSR_API_RATE_LIMIT", "1 per minute")
        self.send(method, path, **kwargs)
        return self.send(method, path, **kwargs)

    def existing_reference(self) -> str:
        return make_request(self.session).reference


BAD_JSON = {"data": "{not json", "content_type": "application/json"}
SCENARIOS = {
    ("/requests", "POST", 201): lambda c: c.send("POST", "/requests", json=ACCESS_REQUEST),
    ("/requests", "POST", 400): lambda c: c.send("POST", "/requests", **BAD_JSON),
    ("/requests", "POST", 401): lambda c: c.send("POST", "/requests", key=None, json=ACCESS_REQUEST),
    ("/requests", "POST", 403): lambda c: c.lacking_scope("POST", "/requests", Scope.REQUESTS_WRITE, json={}),
    ("/requests", "POST", 415): lambda c: c.send("POST", "/requests", data={"type": "access"}),
    ("/requests", "POST", 422): lambda c: c.send("POST", "/requests", json={"type": "access"}),
    ("/requests", "POST", 429): lambda c: c.rate_limited("POST", "/requests", json={}),
    ("/requests/{reference}", "GET", 200): lambda c: c.send("GET", f"/requests/{c.existing_reference()}"),
    ("/requests/{reference}", "GET", 401): lambda c: c.send("GET", "/requests/DSR-2026-AAAA-BBBB", key=None),
    ("/requests/{reference}", "GET", 403): lambda c: c.lacking_scope("GET", "/requests/X", Scope.REQUESTS_READ),
    ("/requests/{reference}", "GET", 404): lambda c: c.send("GET", "/requests/DSR-2026-AAAA-BBBB"),
    ("/requests/{reference}", "GET", 429): lambda c: c.rate_limited("GET", "/requests/X"),
    ("/subjects/consent", "GET", 200): lambda c: c.send("GET", "/subjects/consent?email=a@b.org"),
    ("/subjects/consent", "GET", 401): lambda c: c.send("GET", "/subjects/consent?email=a@b.org", key="dsr_x"),
    ("/subjects/consent", "GET", 403): lambda c: c.lacking_scope("GET", "/subjects/consent", Scope.CONSENT_READ),
    ("/subjects/consent", "GET", 422): lambda c: c.send("GET", "/subjects/consent?phone=nope"),
    ("/subjects/consent", "GET", 429): lambda c: c.rate_limited("GET", "/subjects/consent"),
    ("/suppression", "GET", 200): lambda c: c.send("GET", "/suppression?customer_id=C-1"),
    ("/suppression", "GET", 401): lambda c: c.send("GET", "/suppression", key=None),
    ("/suppression", "GET", 403): lambda c: c.lacking_scope("GET", "/suppression", Scope.SUPPRESSION_READ),
    ("/suppression", "GET", 422): lambda c: c.send("GET", "/suppression"),
    ("/suppression", "GET", 429): lambda c: c.rate_limited("GET", "/suppression"),
    ("/openapi.json", "GET", 200): lambda c: c.send("GET", "/openapi.json", key=None),
    ("/openapi.json", "GET", 429): lambda c: c.rate_limited("GET", "/openapi.json"),
}


def test_every_documented_response_is_produced_and_matches_its_schema(document):
    documented = {(path, method, int(code)) for path, method, op in operations(document) for code in op["responses"]}
    assert documented == set(SCENARIOS), "document a response, or add a call that produces it"


@pytest.mark.parametrize(("path", "method", "status"), sorted(SCENARIOS))
def test_a_documented_response(client, session, app, monkeypatch, document, path, method, status):
    response = SCENARIOS[(path, method, status)](Calls(client, session, app, monkeypatch))
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.is_json and "Set-Cookie" not in response.headers
    schema, headers = response_schema(document, document["paths"][path][method.lower()], status)
    assert problems(schema, response.json, document) == {}
    for header in headers:
        assert header in response.headers, f"{status} documents the {header} header"


def test_the_examples_are_valid_and_accepted(client, session, document):
    key = make_key(session, name="Examples")
    create = document["paths"]["/requests"]["post"]
    examples = create["requestBody"]["content"]["application/json"]["examples"]
    assert {"access", "deletion", "correction", "consent_withdrawal", "objection"} <= set(examples)
    for name, example in examples.items():
        assert problems({"$ref": "#/components/schemas/NewRequest"}, example["value"], document) == {}, name
        response = client.post(f"{PREFIX}/requests", json=example["value"], headers=bearer(key))
        assert response.status_code == 201, (name, response.json)
    for path, method, operation in operations(document):
        for parameter in operation.get("parameters", []):
            assert problems(parameter["schema"], parameter["example"], document) == {}, parameter["name"]
            if parameter["in"] == "query":
                query = f"{path}?{parameter['name']}={parameter['example']}".replace("+", "%2B")
                assert client.open(PREFIX + query, method=method, headers=bearer(key)).status_code == 200


# The property-based part: a seeded generator (no Hypothesis in this project's dependencies) turns each
# operation's valid call into many malformed ones. DSR_API_FUZZ_SEED replays another run.
SEED = int(os.environ.get("DSR_API_FUZZ_SEED", "20261123"))
CASES_PER_OPERATION = 120
ODD_VALUES = [None, True, False, 0, -1, 10**20, 3.5, "", " ", "x" * 6000, "ünïcødé ✓", "\u0000", "\ud800",
              "<script>", [], {}, ["a"], {"a": 1}, "DSR-2026-AAAA-BBBB", "a@b", "+1", "%", "../../etc/passwd",
              "null"]  # fmt: skip


def mutate(value: Any, rng: random.Random, depth: int = 0) -> Any:
    """A copy of `value` broken in one to three places: wrong types, odd strings, missing or extra keys."""
    if depth > 3 or not isinstance(value, dict | list) or rng.random() < 0.25:
        return rng.choice(ODD_VALUES)
    copy = json.loads(json.dumps(value))
    for _ in range(rng.randint(1, 3)):
        if isinstance(copy, dict) and copy:
            key = rng.choice(list(copy))
            action = rng.random()
            if action < 0.3:
                del copy[key]
            elif action < 0.45:
                copy[rng.choice(["extra", "type ", "requester.email", "", "ß"])] = rng.choice(ODD_VALUES)
            else:
                copy[key] = mutate(copy[key], rng, depth + 1)
        elif isinstance(copy, list) and copy:
            index = rng.randrange(len(copy))
            copy[index] = mutate(copy[index], rng, depth + 1)
        elif isinstance(copy, list):
            copy.append(rng.choice(ODD_VALUES))
    return copy


def raw(value: Any) -> bytes:
    """What a client puts in a URL, unpaired surrogates included (as the bytes a sloppy encoder sends)."""
    return str(value).encode("utf-8", "surrogatepass")


def malformed_call(rng: random.Random, path: str, method: str, document: dict, keys: dict[str, str]) -> dict:
    """One call: mostly broken, sometimes valid (so the answers that need valid input are reached too)."""
    valid = rng.random() < 0.15
    headers = rng.choice(
        [bearer(keys["valid"])] * 6
        + [bearer(keys["revoked"]), {}, {"Authorization": "Bearer"}, {"Authorization": "Basic a2V5"}]
        + [bearer(keys["valid"] + "x")]
    )
    call: dict[str, Any] = {"headers": headers}
    operation = document["paths"][path][method.lower()]
    if method == "POST":
        examples = operation["requestBody"]["content"]["application/json"]["examples"]
        example = rng.choice(list(examples.values()))["value"]
        body = example if valid else mutate(example, rng)
        shape = 0 if valid else rng.random()
        if shape < 0.8:
            call["data"], call["content_type"] = json.dumps(body), "application/json"
        elif shape < 0.9:
            call["data"], call["content_type"] = json.dumps(body)[: rng.randint(0, 40)], "application/json"
        else:
            call["data"] = json.dumps(body).encode("utf-16")
            call["content_type"] = rng.choice(["application/json", "text/plain", "application/x-www-form-urlencoded"])
        url = path
    elif "{reference}" in path:
        odd = quote(raw(rng.choice(ODD_VALUES + ["dsr-2026-aaaa-bbbb"])), safe="") or "x"
        url = path.replace("{reference}", keys["reference"] if valid else odd)
    else:
        parameters = operation.get("parameters", [])
        names = [p["name"] for p in parameters] + ["Email", "e-mail"]
        pairs = [(rng.choice(names), str(rng.choice(ODD_VALUES))) for _ in range(rng.randint(0, 3))]
        if valid and parameters:
            chosen = rng.choice(parameters)
            pairs = [(chosen["name"], chosen["example"])]
        call["query_string"] = urlencode([(name, raw(value)) for name, value in pairs])
        url = path
    return {"path": PREFIX + url, "method": method, **call}


def test_malformed_calls_never_crash_and_are_answered_as_documented(client, session, app, monkeypatch, document):
    monkeypatch.setitem(app.config, "DSR_API_RATE_LIMIT", "100000 per minute")
    keys = {"valid": make_key(session, name="Fuzz"), "revoked": make_key(session, name="Revoked")}
    revoked_row = session.scalar(select(ApiKey).where(ApiKey.name == "Revoked"))
    revoke_api_key(session, Actor.system("tests"), revoked_row.created_at, revoked_row)
    keys["reference"] = make_request(session).reference
    rng = random.Random(SEED)
    seen: set[tuple[str, str, int]] = set()
    for path, method, operation in operations(document):
        for case in range(CASES_PER_OPERATION):
            call = malformed_call(rng, path, method, document, keys)
            response = client.open(call.pop("path"), method=call.pop("method"), **call)
            context = f"seed {SEED}, {method} {path} case {case}: {response.status_code} {response.get_data()[:300]!r}"
            assert response.status_code != 500, context
            assert str(response.status_code) in operation["responses"], context
            schema, _ = response_schema(document, operation, response.status_code)
            assert problems(schema, response.json, document) == {}, context
            seen.add((path, method, response.status_code))
    assert {status for _, _, status in seen} >= {200, 201, 401, 404, 422}, "the generator should reach these"

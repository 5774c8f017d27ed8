"""The OpenAPI document matches the behaviour: every route is documented and every documented operation is
routed, with the scope it declares; every documented response is produced by a real call and matches its
schema, by the app's own checker and by the jsonschema library; the examples are valid and accepted.
(test_api_fuzz.py sends the malformed calls.)"""

from __future__ import annotations

import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from dsr.domain.api import Scope
from dsr.web.api.schema import problems, resolve
from tests.factories import make_request
from tests.web.api_support import ACCESS_REQUEST, bearer, make_key
from tests.web.openapi_support import (
    PREFIX,
    JsonSchemaCheck,
    document_fixture,  # noqa: F401
    operations,
    pointer,
    response_schema,
)

SUPPORTED = {"$ref", "type", "properties", "required", "additionalProperties", "items", "enum", "const", "minLength",
             "maxLength", "minItems", "maxItems", "uniqueItems", "minimum", "maximum", "pattern", "format"}  # fmt: skip
ANNOTATIONS = {"description", "default", "title", "example", "x-pattern-message"}


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
    assert JsonSchemaCheck(document).response_errors(path, method, status, response.json) == []
    for header in headers:
        assert header in response.headers, f"{status} documents the {header} header"


def test_the_examples_are_valid_and_accepted(client, session, document):
    key, check = make_key(session, name="Examples"), JsonSchemaCheck(document)
    create = document["paths"]["/requests"]["post"]
    examples = create["requestBody"]["content"]["application/json"]["examples"]
    assert {"access", "deletion", "correction", "consent_withdrawal", "objection"} <= set(examples)
    for name, example in examples.items():
        assert problems({"$ref": "#/components/schemas/NewRequest"}, example["value"], document) == {}, name
        assert check.errors(pointer("paths", "/requests", "post", "requestBody", "content", "application/json",
                                    "schema"), example["value"]) == [], name  # fmt: skip
        response = client.post(f"{PREFIX}/requests", json=example["value"], headers=bearer(key))
        assert response.status_code == 201, (name, response.json)
    for path, method, operation in operations(document):
        for index, parameter in enumerate(operation.get("parameters", [])):
            assert problems(parameter["schema"], parameter["example"], document) == {}, parameter["name"]
            at = pointer("paths", path, method.lower(), "parameters", str(index), "schema")
            assert check.errors(at, parameter["example"]) == [], parameter["name"]
            if parameter["in"] == "query":
                query = f"{path}?{parameter['name']}={parameter['example']}".replace("+", "%2B")
                assert client.open(PREFIX + query, method=method, headers=bearer(key)).status_code == 200


def test_every_schema_in_the_document_is_valid_json_schema_2020_12(document):
    """What jsonschema validates against must itself be a schema, or a check could pass by not applying."""
    schemas = [*document["components"]["schemas"].values()]
    for _, _, operation in operations(document):
        schemas += [parameter["schema"] for parameter in operation.get("parameters", [])]
        for response in operation["responses"].values():
            schemas.append(resolve(response, document)["content"]["application/json"]["schema"])
    for schema in schemas:
        Draft202012Validator.check_schema(schema)


def test_the_independent_check_refuses_what_the_document_does_not_allow(document):
    """The jsonschema check is live: a body missing required fields, of the wrong type or in a bad format fails."""
    check = JsonSchemaCheck(document)
    good = {"error": "not_found", "reason": "No request with this reference.", "status": 404}
    assert check.response_errors("/requests/{reference}", "GET", 404, good) == []
    assert check.response_errors("/requests/{reference}", "GET", 404, {**good, "status": "404"}) != []
    assert check.response_errors("/requests/{reference}", "GET", 404, {"error": "not_found"}) != []
    request = {"reference": "DSR-2026-AAAA-BBBB", "received_at": "yesterday"}
    assert any("date-time" in problem for problem in check.response_errors("/requests/{reference}", "GET", 200,
                                                                            request))  # fmt: skip

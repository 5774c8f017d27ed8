"""The served OpenAPI document as the API tests read it, and a second, independent check of JSON against it.

The app checks request bodies with its own small JSON Schema checker (dsr.web.api.schema), and the tests
used that same checker for responses, so a gap in it would hide a response the document does not allow.
`JsonSchemaCheck` validates with the jsonschema library instead: OpenAPI 3.1 schemas are JSON Schema
2020-12, and every `$ref` resolves against the served document itself (its components), with formats
(date, date-time, email) asserted.

Import the fixture into a test module: `from tests.web.openapi_support import document_fixture  # noqa: F401`.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from dsr.web.api.schema import resolve

PREFIX = "/api/v1"
DOCUMENT_URI = "https://dsr-desk.test/api/v1/openapi.json"  # the name $refs are resolved under


@pytest.fixture(name="document")
def document_fixture(client, session) -> dict:
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


def pointer(*parts: str) -> str:
    """A JSON pointer (RFC 6901) to a place in the document."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


class JsonSchemaCheck:
    """Validates JSON against schemas of one OpenAPI document with the jsonschema library."""

    def __init__(self, document: dict) -> None:
        self.document = document
        self.registry = Registry().with_resource(DOCUMENT_URI, DRAFT202012.create_resource(document))

    def errors(self, at: str, instance: Any) -> list[str]:
        """Every way `instance` breaks the schema at JSON pointer `at` ([] when it fits)."""
        validator = Draft202012Validator(
            {"$ref": f"{DOCUMENT_URI}#{at}"},
            registry=self.registry,
            format_checker=Draft202012Validator.FORMAT_CHECKER,
        )
        return sorted(f"{error.json_path}: {error.message}" for error in validator.iter_errors(instance))

    def component_errors(self, name: str, instance: Any) -> list[str]:
        return self.errors(pointer("components", "schemas", name), instance)

    def response_errors(self, path: str, method: str, status: int, instance: Any) -> list[str]:
        """Against the documented JSON body of that response (following a `$ref` to a shared response)."""
        at = pointer("paths", path, method.lower(), "responses", str(status))
        declared = self.document["paths"][path][method.lower()]["responses"][str(status)]
        if "$ref" in declared:
            at = declared["$ref"].removeprefix("#")
        return self.errors(at + pointer("content", "application/json", "schema"), instance)

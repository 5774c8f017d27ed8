"""The small part of JSON Schema (2020-12, as OpenAPI 3.1 uses it) that the API document is written in.

The API checks request bodies against its own OpenAPI document with this, so the document cannot
promise one shape while the code accepts another; the tests check responses with it too.
Supported: $ref (local), type (one or a list), properties, required, additionalProperties,
items, enum, const, minLength, maxLength, minItems, maxItems, uniqueItems, minimum, maximum,
pattern (with x-pattern-message as the problem to report), and the formats date and date-time.
Anything else in a schema is an annotation. Every string must also be text any database can store
(no NUL character, no unpaired surrogate).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

TYPE_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "null",
}


def _is(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, {"object": dict, "array": list, "string": str, "boolean": bool}.get(kind, type(None)))


def resolve(schema: dict, document: dict) -> dict:
    while "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith("#/"):
            raise ValueError(f"Only local references are supported: {ref}")
        target: Any = document
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        schema = target
    return schema


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def problems(schema: dict, value: Any, document: dict, path: str = "") -> dict[str, str]:
    """Every place `value` breaks `schema`, as {"requester.email": "Must be a string."}; empty when it fits.

    The whole value's own problem is reported under "body" when path is empty.
    """
    found: dict[str, str] = {}
    _check(resolve(schema, document), value, document, path, found)
    return found


def _check(schema: dict, value: Any, document: dict, path: str, found: dict[str, str]) -> None:
    where = path or "body"
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(value, kind) for kind in kinds):
            found[where] = "Must be " + " or ".join(TYPE_NAMES[kind] for kind in kinds) + "."
            return
    if "const" in schema and value != schema["const"]:
        found[where] = f"Must be {schema['const']!r}."
        return
    if "enum" in schema and value not in schema["enum"]:
        found[where] = "Must be one of: " + ", ".join(str(option) for option in schema["enum"]) + "."
        return
    if isinstance(value, str):
        _check_string(schema, value, where, found)
    elif isinstance(value, list):
        _check_array(schema, value, document, path, found)
    elif isinstance(value, dict):
        _check_object(schema, value, document, path, found)
    elif _is(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            found[where] = f"Must be at least {schema['minimum']}."
        elif "maximum" in schema and value > schema["maximum"]:
            found[where] = f"Must be at most {schema['maximum']}."


def _check_string(schema: dict, value: str, where: str, found: dict[str, str]) -> None:
    if not _storable(value):
        found[where] = "Must be Unicode text without the NUL character (U+0000) or unpaired surrogates."
    elif "minLength" in schema and len(value) < schema["minLength"]:
        found[where] = (
            "Must not be empty." if schema["minLength"] == 1 else f"At least {schema['minLength']} characters."
        )
    elif "maxLength" in schema and len(value) > schema["maxLength"]:
        found[where] = f"At most {schema['maxLength']} characters."
    elif "pattern" in schema and not re.search(schema["pattern"], value):
        found[where] = schema.get("x-pattern-message", "Not in the expected format.")
    elif schema.get("format") in ("date", "date-time") and not _is_date(value, schema["format"]):
        found[where] = f"Not an ISO 8601 {schema['format']}."


def _storable(value: str) -> bool:
    """Text every database can store: no NUL (PostgreSQL refuses it), nothing UTF-8 cannot encode."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def _is_date(value: str, kind: str) -> bool:
    try:
        parsed = date.fromisoformat(value) if kind == "date" else datetime.fromisoformat(value)
    except ValueError:
        return False
    return kind == "date" or ("T" in value and parsed.tzinfo is not None)


def _check_array(schema: dict, value: list, document: dict, path: str, found: dict[str, str]) -> None:
    where = path or "body"
    if "minItems" in schema and len(value) < schema["minItems"]:
        found[where] = f"At least {schema['minItems']} item{'s' if schema['minItems'] != 1 else ''}."
        return
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        found[where] = f"At most {schema['maxItems']} item{'s' if schema['maxItems'] != 1 else ''}."
        return
    if schema.get("uniqueItems") and len({repr(item) for item in value}) != len(value):
        found[where] = "Each item only once."
        return
    if "items" in schema:
        items = resolve(schema["items"], document)
        for index, item in enumerate(value):
            _check(items, item, document, _child(path, index), found)


def _check_object(schema: dict, value: dict, document: dict, path: str, found: dict[str, str]) -> None:
    properties = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            found[_child(path, name)] = "This field is required."
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            _check(resolve(properties[name], document), item, document, _child(path, name), found)
        elif extra is False:
            found[_child(path, name)] = "Unknown field."
        elif isinstance(extra, dict):
            _check(resolve(extra, document), item, document, _child(path, name), found)

"""The API against many malformed calls: Hypothesis turns each documented operation's call into broken ones and
checks every answer against the served OpenAPI document, with the app's own checker and with jsonschema."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dsr.domain.actors import Actor
from dsr.models import ApiKey
from dsr.services.api_keys import revoke_api_key
from dsr.web.api.schema import problems
from tests.factories import make_request
from tests.web.api_support import bearer, make_key
from tests.web.openapi_support import (
    PREFIX,
    JsonSchemaCheck,
    document_fixture,  # noqa: F401
    operations,
    response_schema,
)

# The property-based part: Hypothesis turns each operation's documented call into many malformed ones (wrong
# types, odd strings, missing or extra keys, truncated or mis-encoded bodies, bad keys) and checks every answer
# against the document. Runs are derandomised so CI is repeatable; DSR_API_FUZZ_RANDOM=1 explores new inputs.
ODD_VALUES = [None, True, False, 0, -1, 10**20, 3.5, "", " ", "x" * 6000, "ünïcødé ✓", "\u0000", "\ud800",
              "<script>", [], {}, ["a"], {"a": 1}, "DSR-2026-AAAA-BBBB", "a@b", "+1", "%", "/0", "../../etc/passwd",
              "null"]  # fmt: skip
EXAMPLES = int(os.environ.get("DSR_API_FUZZ_EXAMPLES", "600"))
scalars = st.one_of(
    st.sampled_from(ODD_VALUES),
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
odd_keys = st.sampled_from(["extra", "type ", "requester.email", "", "ß"]) | st.text(max_size=12)


@st.composite
def mutated(draw, value: Any, depth: int = 0) -> Any:
    """A copy of `value` broken in one to three places: wrong types, odd strings, missing or extra keys."""
    if depth > 3 or not isinstance(value, dict | list) or draw(st.integers(0, 3)) == 0:
        return draw(json_values)
    copy = json.loads(json.dumps(value))
    for _ in range(draw(st.integers(1, 3))):
        if isinstance(copy, dict) and copy:
            key = draw(st.sampled_from(sorted(copy)))
            action = draw(st.sampled_from(["delete", "add", "break", "break"]))
            if action == "delete":
                del copy[key]
            elif action == "add":
                copy[draw(odd_keys)] = draw(json_values)
            else:
                copy[key] = draw(mutated(copy[key], depth + 1))
        elif isinstance(copy, list) and copy:
            index = draw(st.integers(0, len(copy) - 1))
            copy[index] = draw(mutated(copy[index], depth + 1))
        elif isinstance(copy, list):
            copy.append(draw(json_values))
    return copy


def raw(value: Any) -> bytes:
    """What a client puts in a URL, unpaired surrogates included (as the bytes a sloppy encoder sends)."""
    return str(value).encode("utf-8", "surrogatepass")


@st.composite
def api_calls(draw, document: dict, keys: dict[str, str]) -> dict:
    """One call to one documented operation: mostly broken, sometimes valid (so every answer is reachable)."""
    path, method, operation = draw(st.sampled_from(list(operations(document))))
    valid = draw(st.integers(0, 6)) == 0
    headers = draw(
        st.sampled_from(
            [bearer(keys["valid"]), bearer(keys["revoked"]), bearer(keys["valid"] + "x"), {}]
            + [{"Authorization": "Bearer"}, {"Authorization": "Basic a2V5"}]
        )
        if draw(st.integers(0, 2)) == 0
        else st.just(bearer(keys["valid"]))
    )
    call: dict[str, Any] = {"headers": headers}
    if method == "POST":
        examples = operation["requestBody"]["content"]["application/json"]["examples"]
        example = draw(st.sampled_from([e["value"] for e in examples.values()]))
        body = example if valid else draw(mutated(example))
        encoded = json.dumps(body)
        shape = "json" if valid else draw(st.sampled_from(["json"] * 8 + ["truncated", "recoded"]))
        if shape == "json":
            call["data"], call["content_type"] = encoded, "application/json"
        elif shape == "truncated":
            call["data"], call["content_type"] = encoded[: draw(st.integers(0, 40))], "application/json"
        else:
            call["data"] = encoded.encode("utf-16")
            call["content_type"] = draw(
                st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded"])
            )
        url = path
    elif "{reference}" in path:
        odd = draw(st.sampled_from([*ODD_VALUES, "dsr-2026-aaaa-bbbb"]) | st.text(min_size=1, max_size=30))
        url = path.replace("{reference}", keys["reference"] if valid else (quote(raw(odd), safe="") or "x"))
    else:
        parameters = operation.get("parameters", [])
        if valid and parameters:
            chosen = draw(st.sampled_from(parameters))
            pairs = [(chosen["name"], chosen["example"])]
        else:
            names = st.sampled_from([p["name"] for p in parameters] + ["Email", "e-mail"])
            pairs = draw(st.lists(st.tuples(names, scalars.map(str)), max_size=3))
        call["query_string"] = urlencode([(name, raw(value)) for name, value in pairs])
        url = path
    return {"path": PREFIX + url, "method": method, "template": path, **call}


def test_malformed_calls_never_crash_and_are_answered_as_documented(client, session, app, monkeypatch, document):
    monkeypatch.setitem(app.config, "DSR_API_RATE_LIMIT", "100000 per minute")
    keys = {"valid": make_key(session, name="Fuzz"), "revoked": make_key(session, name="Revoked")}
    revoked_row = session.scalar(select(ApiKey).where(ApiKey.name == "Revoked"))
    revoke_api_key(session, Actor.system("tests"), revoked_row.created_at, revoked_row)
    keys["reference"] = make_request(session).reference
    seen: set[tuple[str, str, int]] = set()
    check = JsonSchemaCheck(document)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not os.environ.get("DSR_API_FUZZ_RANDOM"),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(api_calls(document, keys))
    def answered_as_documented(call: dict) -> None:
        call = dict(call)
        path, method, template = call.pop("path"), call.pop("method"), call.pop("template")
        response = client.open(path, method=method, **call)
        context = f"{method} {path}: {response.status_code} {response.get_data()[:300]!r}"
        assert response.status_code != 500, context
        declared = document["paths"][template][method.lower()]
        assert str(response.status_code) in declared["responses"], context
        schema, _ = response_schema(document, declared, response.status_code)
        assert problems(schema, response.json, document) == {}, context
        assert check.response_errors(template, method, response.status_code, response.json) == [], context
        seen.add((template, method, response.status_code))

    answered_as_documented()
    assert {status for _, _, status in seen} >= {200, 201, 401, 404, 422}, "the generator should reach these"
    assert {(p, m) for p, m, _ in seen} == {(p, m) for p, m, _ in operations(document)}, "every operation was called"

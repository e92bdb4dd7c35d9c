"""Whatever bytes arrive as a body, no route answers with a server error.

One property for every route that takes a body, found from the apps themselves (a
route with a documented request body) rather than listed here: arbitrary bytes,
JSON nested thousands deep, invalid UTF-8 inside strings and keys, bodies the route's
own OpenAPI document allows (schemathesis' positive generation), and JSON that looks
valid (the route's own field names and constants, arbitrary values), each sent with every
content type Chalice accepts for the route. Each request goes through
``chalice.test.Client`` with a valid token of the user the path names, so bodies
reach validation and storage. Bounded and derandomized: ``EXAMPLES`` per route.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemathesis.generation import GenerationMode

from tests.support import services
from tests.support.tokens import bearer, claims

EXAMPLES = 150
USER_ID = "f0220000-0000-4000-8000-000000000001"

# The two bodies that once gave 500, tried on every route besides the generated ones.
INVALID_UTF8_IN_A_STRING = b'{"username":"abc\xff","password":"correct horse battery"}'
NESTED_BEFORE_THE_TAG = b'{"x": ' + b"[" * 1000 + b"]" * 1000 + b', "grant_type": "password"}'

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _body_routes() -> list[tuple[str, str, str]]:
    return [
        (name, path, method)
        for name in services.SERVICES
        for path, methods in services.load(name).app.routes.items()
        for method, entry in methods.items()
        if getattr(getattr(entry.view_function, "__openapi__", None), "request", None) is not None
    ]


BODY_ROUTES = _body_routes()


def _vocabulary(schema: Any, components: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The field names and the string constants a request schema mentions, $refs followed."""
    names: set[str] = set()
    constants: set[str] = set()
    seen: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref not in seen:
                seen.add(ref)
                walk(components.get(ref.rsplit("/", 1)[-1]))
            names.update(node.get("properties", {}))
            constants.update(v for v in [node.get("const"), *node.get("enum", [])] if isinstance(v, str))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return names, constants


def _document(name: str) -> dict[str, Any]:
    with services.load(name).client() as client:
        return json.loads(client.http.get("/openapi.json").body)  # type: ignore[no-any-return]


def _schema_valid_bodies(document: dict[str, Any], path: str, method: str) -> st.SearchStrategy[Any]:
    """Bodies the route's own document allows (schemathesis' positive generation)."""
    schema = schemathesis.openapi.from_dict(document)
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path == path and operation.method.upper() == method:
            return operation.as_strategy(generation_mode=GenerationMode.POSITIVE).map(lambda case: case.body)
    raise LookupError(f"{method} {path} is not in the document")


json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


def bodies(valid: st.SearchStrategy[Any], names: set[str], constants: set[str]) -> st.SearchStrategy[bytes]:
    """Bytes a client or an attacker might send as a body."""
    field = st.sampled_from(sorted(names)) if names else st.text(max_size=8)
    value = json_values | (st.sampled_from(sorted(constants)) if constants else st.text(max_size=8))
    objects = valid | st.dictionaries(field | st.text(max_size=8), value, max_size=6)
    as_json = objects.map(lambda o: json.dumps(o).encode())
    as_form = objects.map(
        lambda o: (
            urllib.parse.urlencode({k: v if isinstance(v, str) else json.dumps(v) for k, v in o.items()}).encode()
            if isinstance(o, dict)
            else b""
        )
    )

    def nested(args: tuple[int, bytes]) -> bytes:
        depth, rest = args
        opener = b"[" * depth + b"]" * depth
        return b'{"x": ' + opener + b", " + rest.lstrip(b"{") if rest.startswith(b"{") else opener

    def broken_utf8(args: tuple[bytes, int, bytes]) -> bytes:
        body, at, junk = args
        # Inside a string or a key where there is one: after an opening quote.
        quote = body.find(b'"', at % max(len(body), 1))
        cut = quote + 1 if quote >= 0 else at % (len(body) + 1)
        return body[:cut] + junk + body[cut:]

    invalid = st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"])
    return st.one_of(
        as_json,
        as_form,
        st.binary(max_size=256),
        st.tuples(st.integers(1, 5000), as_json).map(nested),
        st.tuples(as_json, st.integers(0, 200), invalid).map(broken_utf8),
    )


@pytest.mark.parametrize(("name", "path", "method"), BODY_ROUTES, ids=[f"{m} {p}" for _, p, m in BODY_ROUTES])
def test_no_body_gets_a_server_error(apps: dict[str, Any], key_ring: Any, name: str, path: str, method: str) -> None:
    route = services.load(name).app.routes[path][method]
    document = _document(name)
    components = document.get("components", {}).get("schemas", {})
    names, constants = _vocabulary(document["paths"][path][method.lower()]["requestBody"], components)
    valid = _schema_valid_bodies(document, path, method)
    content_types = [*route.content_types, *(f"{t}; charset=utf-8" for t in route.content_types)]
    headers = bearer(key_ring.sign(claims(USER_ID))) if route.authorizer else {}
    url = path.replace("{user_id}", USER_ID)

    @FUZZ
    @example(body=INVALID_UTF8_IN_A_STRING, content_type="application/json")
    @example(body=NESTED_BEFORE_THE_TAG, content_type="application/json")
    @given(body=bodies(valid, names, constants), content_type=st.sampled_from(content_types))
    def send(body: bytes, content_type: str) -> None:
        response = apps[name].http.request(method, url, headers={**headers, "Content-Type": content_type}, body=body)

        assert response.status_code < 500, (body[:200], response.status_code, response.body[:300])
        if response.headers.get("Content-Type", "").startswith("text/html"):
            assert response.body.startswith(b"<!doctype html>")  # a page of ours (the login form's)
        else:
            assert isinstance(json.loads(response.body or b"null"), dict | None)

    send()


def test_every_body_route_is_fuzzed() -> None:
    # The five routes of the contract that take a body; a new one is found on its own.
    assert {(p, m) for _, p, m in BODY_ROUTES} >= {
        ("/users", "POST"),
        ("/token", "POST"),
        ("/token/revoke", "POST"),
        ("/locations/{user_id}", "PUT"),
        ("/profiles/{user_id}", "PUT"),
    }

"""What each location request costs in DynamoDB calls (botocore's event hooks), and what its
authorizer costs in network calls once it knows the keys (counted by the JWKS server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from servicekit.authorizer import verifier
from tests.location.conftest import ALICE, SAN_FRANCISCO
from tests.support import services
from tests.support.tokens import AUDIENCE, ISSUER, claims
from tools.jsonserver import JsonHandler, Server


def test_a_location_write_is_one_table_write(location: Any, alice: dict[str, str], dynamodb_calls: list[str]) -> None:
    response = location.http.put(f"/locations/{ALICE}", headers=alice, body=json.dumps(SAN_FRANCISCO))

    assert response.status_code == 200
    assert dynamodb_calls == ["UpdateItem"]


def test_a_location_read_is_one_table_read(location: Any, alice: dict[str, str], dynamodb_calls: list[str]) -> None:
    location.http.put(f"/locations/{ALICE}", headers=alice, body=json.dumps(SAN_FRANCISCO))
    dynamodb_calls.clear()

    assert location.http.get(f"/locations/{ALICE}", headers=alice).status_code == 200
    assert dynamodb_calls == ["GetItem"]


def test_a_location_delete_is_one_table_write(location: Any, alice: dict[str, str], dynamodb_calls: list[str]) -> None:
    location.http.put(f"/locations/{ALICE}", headers=alice, body=json.dumps(SAN_FRANCISCO))
    dynamodb_calls.clear()

    assert location.http.delete(f"/locations/{ALICE}", headers=alice).status_code == 204
    assert dynamodb_calls == ["DeleteItem"]


class JwksServer:
    """The auth service's JWKS on 127.0.0.1, counting every request it gets."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.requests = 0
        server = self

        class Handler(JsonHandler):
            def do_GET(self) -> None:
                server.requests += 1
                self.send_json(200, document)

        self._http = Server(Handler, name="jwks")
        self.url = self._http.url

    def __enter__(self) -> JwksServer:
        self._http.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._http.stop()


@pytest.fixture
def jwks_server(key_ring: Any, monkeypatch: pytest.MonkeyPatch, aws: Any) -> Iterator[JwksServer]:
    """The real verifier of the location service's authorizer, fetching from a counting JWKS server."""
    with JwksServer(key_ring.jwks()) as server:
        monkeypatch.setenv("AUTH_URL", server.url)
        monkeypatch.setenv("TOKEN_ISSUER", ISSUER)
        monkeypatch.setenv("TOKEN_AUDIENCE", AUDIENCE)
        verifier.reset()  # the aws fixture gave it the keys directly; build the real one
        yield server
        verifier.reset()


def authorize(token: str) -> dict[str, Any]:
    """Invoke the authorizer as Lambda does: the handler Chalice deploys, with a TOKEN event."""
    app_module = services.load("location").app_module
    (handler,) = [a.handler_string for a in app_module.app.builtin_auth_handlers]
    event = {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token}",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api-id/api/GET/locations/x",
    }
    return getattr(app_module, handler.removeprefix("app."))(event, None)  # type: ignore[no-any-return]


def test_the_authorizer_fetches_the_keys_once_then_makes_no_network_call(
    jwks_server: JwksServer, key_ring: Any, dynamodb_calls: list[str]
) -> None:
    # GIVEN an authorizer that has verified one token (and so fetched the keys)
    first = authorize(key_ring.sign(claims(ALICE)))
    assert first["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert jwks_server.requests == 1

    # WHEN it verifies more tokens signed with a key it knows
    answers = [authorize(key_ring.sign(claims(ALICE))) for _ in range(3)]

    # THEN it calls nothing: not the auth service, not DynamoDB
    assert [a["policyDocument"]["Statement"][0]["Effect"] for a in answers] == ["Allow"] * 3
    assert jwks_server.requests == 1
    assert dynamodb_calls == []


def test_with_the_jwks_handed_over_even_the_first_token_needs_no_call(
    jwks_server: JwksServer, key_ring: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the deployment hands the public keys to the authorizer
    monkeypatch.setenv("JWKS", json.dumps(key_ring.jwks()))

    # WHEN a cold authorizer verifies its first token
    answer = authorize(key_ring.sign(claims(ALICE)))

    # THEN it did not call the auth service
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    assert jwks_server.requests == 0

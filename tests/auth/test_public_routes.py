"""GET /health, GET /.well-known/jwks.json and GET /openapi.json of the auth service."""

from __future__ import annotations

from typing import Any

from tests.support import services
from tests.support.services import json_body


def test_health(auth: Any) -> None:
    response = auth.http.get("/health")

    assert response.status_code == 200
    assert json_body(response) == {"status": "ok", "service": "auth"}


def test_jwks_lists_only_public_parts_of_every_key(auth: Any, key_ring: Any) -> None:
    response = auth.http.get("/.well-known/jwks.json")

    assert response.status_code == 200
    (key,) = json_body(response)["keys"]
    assert key == {
        "kty": "OKP",
        "crv": "Ed25519",
        "kid": key_ring.active,
        "use": "sig",
        "alg": "EdDSA",
        "x": key["x"],
    }
    assert "d" not in key


def test_openapi_documents_every_route_with_its_schemas(auth: Any) -> None:
    document = json_body(auth.http.get("/openapi.json"))

    assert document["openapi"].startswith("3.")
    assert set(document["paths"]) == {
        "/users",
        "/token",
        "/token/revoke",
        "/.well-known/jwks.json",
        "/users/me",
        "/health",
        "/openapi.json",
    }
    registration = document["components"]["schemas"]["Registration"]
    assert registration["properties"]["password"]["minLength"] == 12
    assert registration["additionalProperties"] is False
    assert document["paths"]["/users/me"]["get"]["security"] == [{"bearer": []}]
    assert "security" not in document["paths"]["/users"]["post"]


def test_key_ids_are_hex_thumbprints_that_never_look_like_a_command_line_option() -> None:
    keys = services.load("auth").module("keys")

    kids = [keys.KeyRing.generate().active for _ in range(50)]

    assert all(len(kid) == 64 and set(kid) <= set("0123456789abcdef") for kid in kids)
    assert len(set(kids)) == 50

"""GET /health, GET /.well-known/jwks.json and GET /openapi.json of the auth service."""

from __future__ import annotations

from typing import Any

import jwt

from tests.support import services
from tests.support.services import json_body

# The members of a JWK that carry private key material (RFC 7518, sections 6.2.2, 6.3.2, 6.4.1).
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def test_health(auth: Any) -> None:
    response = auth.http.get("/health")

    assert response.status_code == 200
    assert json_body(response) == {"status": "ok", "service": "auth"}


def test_jwks_lists_only_public_parts_of_every_key(auth: Any, key_ring: Any) -> None:
    # GIVEN a ring of two keys, as during a rotation, and the algorithm its tokens name
    ring = key_ring.with_new_key()
    services.load("auth").module("keys").key_ring.override(ring)
    alg = jwt.get_unverified_header(ring.sign({"sub": "anyone"}))["alg"]

    response = auth.http.get("/.well-known/jwks.json")

    # THEN every key is listed as PyJWT computes its JWK from the private key, with the
    # private members left out
    assert response.status_code == 200
    published = {key["kid"]: key for key in json_body(response)["keys"]}
    assert set(published) == set(ring.keys)
    for kid, private_key in ring.keys.items():
        private = jwt.get_algorithm_by_name(alg).to_jwk(private_key, as_dict=True)
        assert PRIVATE_MEMBERS & set(private)  # the whole key, as a sanity check of the expectation
        public = {member: value for member, value in private.items() if member not in PRIVATE_MEMBERS}
        assert published[kid] == {**public, "kid": kid, "use": "sig", "alg": alg}
        assert not PRIVATE_MEMBERS & set(published[kid])


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

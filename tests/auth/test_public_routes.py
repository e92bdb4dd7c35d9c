"""GET /health, GET /.well-known/jwks.json and GET /openapi.json of the auth service."""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from servicekit.keyring import KeyRing
from servicekit.openapi import server_url
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
        "/authorize",
        "/users",
        "/token",
        "/token/revoke",
        "/.well-known/jwks.json",
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
        "/users/me",
        "/users/me/erasure",
        "/health",
        "/openapi.json",
    }
    registration = document["components"]["schemas"]["Registration"]
    assert registration["properties"]["password"]["minLength"] == 12
    assert registration["additionalProperties"] is False
    assert document["paths"]["/users/me"]["get"]["security"] == [{"bearer": []}]
    assert document["paths"]["/users"]["post"]["security"] == []  # public, said so (linters want it said)


def test_openapi_declares_http_basic_client_authentication_on_the_token_endpoints(auth: Any) -> None:
    document = json_body(auth.http.get("/openapi.json"))

    for path in ("/token", "/token/revoke"):
        assert document["paths"][path]["post"]["security"] == [{}, {"client_basic": []}]
    assert document["components"]["securitySchemes"]["client_basic"]["scheme"] == "basic"


def test_openapi_describes_the_answers_made_before_a_route_runs(auth: Any) -> None:
    document = json_body(auth.http.get("/openapi.json"))
    me = document["paths"]["/users/me"]["get"]["responses"]
    schemas = document["components"]["schemas"]

    assert me["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/GatewayUnauthorized"}
    assert {"$ref": "#/components/schemas/GatewayDenied"} in me["403"]["content"]["application/json"]["schema"]["anyOf"]
    assert schemas["GatewayUnauthorized"]["required"] == ["message"]
    assert all("415" in operation["responses"] for path in document["paths"].values() for operation in path.values())


def test_openapi_describes_the_token_endpoints_form_encoded_and_mentions_json(auth: Any) -> None:
    document = json_body(auth.http.get("/openapi.json"))

    for path in ("/token", "/token/revoke"):
        operation = document["paths"][path]["post"]
        assert set(operation["requestBody"]["content"]) == {"application/x-www-form-urlencoded"}
        assert "JSON" in operation["description"]
    locked = document["paths"]["/token"]["post"]["responses"]["429"]
    assert "Retry-After" in locked["headers"]


def test_openapi_names_the_configured_url_whatever_the_host_header_says(auth: Any) -> None:
    document = json_body(auth.http.get("/openapi.json", headers={"Host": "evil.example", "X-Forwarded-Proto": "https"}))

    assert document["servers"] == [{"url": "http://127.0.0.1:8001"}]  # the local stage's AUTH_URL


def test_openapi_on_api_gateway_names_the_stage_path(monkeypatch: pytest.MonkeyPatch) -> None:
    # A deployed service is not told its own URL: the stage path, from API Gateway's request context.
    monkeypatch.setenv("STAGE", "dev")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "auth")
    monkeypatch.delenv("AUTH_URL", raising=False)

    class Request:
        headers = {"host": "evil.example", "x-forwarded-proto": "https"}
        context = {"path": "/api/openapi.json", "resourcePath": "/openapi.json"}
        uri_params = None

    assert server_url(Request()) == "/api"  # type: ignore[arg-type]


def test_metadata_names_the_endpoints_under_the_issuer(auth: Any) -> None:
    metadata = json_body(auth.http.get("/.well-known/oauth-authorization-server"))

    issuer = "http://127.0.0.1:8001"
    assert metadata == {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "revocation_endpoint": f"{issuer}/token/revoke",
        "grant_types_supported": ["authorization_code", "password", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "scopes_supported": ["profile:write", "location:write", "location:read"],
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
    }
    assert json_body(auth.http.get("/.well-known/openid-configuration")) == metadata


def test_key_ids_are_hex_thumbprints_that_never_look_like_a_command_line_option() -> None:
    kids = [KeyRing.generate().active for _ in range(50)]

    assert all(len(kid) == 64 and set(kid) <= set("0123456789abcdef") for kid in kids)
    assert len(set(kids)) == 50


def test_importing_the_app_loads_neither_jinja2_nor_the_cookie_parser() -> None:
    # Both serve the login page only: importing app.py is every route's and the authorizer's cold start.
    assert services.imported_with_app("auth", ("jinja2", "http.cookies")) == []

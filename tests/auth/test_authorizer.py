"""The shared JWT authorizer, attacked through GET /users/me (the same code guards every service)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.support import services, tokens
from tests.support.services import json_body


def _me(auth: Any, token: str) -> Any:
    return auth.http.get("/users/me", headers=tokens.bearer(token))


def test_a_valid_token_is_let_through(auth: Any, alice: dict[str, Any]) -> None:
    assert _me(auth, alice["tokens"]["access_token"]).status_code == 200


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda ring, sub: tokens.tampered(ring.sign(tokens.claims(sub))), id="tampered payload"),
        pytest.param(lambda ring, sub: tokens.alg_none(tokens.claims(sub), ring.active), id="alg none"),
        pytest.param(
            lambda ring, sub: tokens.hs256_with_public_key(ring, tokens.claims(sub)), id="hs256 with public key"
        ),
        pytest.param(lambda ring, sub: tokens.unknown_key(tokens.claims(sub)), id="unknown kid"),
        pytest.param(lambda ring, sub: ring.sign(tokens.claims(sub, exp=int(time.time()) - 60)), id="expired"),
        pytest.param(lambda ring, sub: ring.sign(tokens.claims(sub, nbf=int(time.time()) + 600)), id="not yet valid"),
        pytest.param(
            lambda ring, sub: ring.sign(tokens.claims(sub, iat=int(time.time()) + 600)), id="issued in the future"
        ),
        pytest.param(lambda ring, sub: ring.sign(tokens.claims(sub, aud="urn:someone-else")), id="wrong audience"),
        pytest.param(lambda ring, sub: ring.sign(tokens.claims(sub, iss="urn:evil")), id="wrong issuer"),
        pytest.param(
            lambda ring, sub: ring.sign(tokens.claims(sub, exp=int(time.time()) + 86400)), id="lifetime over 15 minutes"
        ),
        pytest.param(lambda ring, sub: ring.sign(tokens.claims(sub, jti=None)), id="missing jti"),
        pytest.param(lambda ring, sub: ring.sign(tokens.claims(sub, exp=None)), id="missing exp"),
        pytest.param(lambda ring, sub: "not.a.jwt", id="malformed"),
        pytest.param(lambda ring, sub: "x" * 5000, id="garbage"),
    ],
)
def test_an_invalid_token_is_denied_with_403(
    auth: Any, alice: dict[str, Any], key_ring: Any, forge: Callable[[Any, str], str]
) -> None:
    token = forge(key_ring, alice["user"]["user_id"])

    response = _me(auth, token)

    assert response.status_code == 403
    assert alice["user"]["user_id"] not in response.body.decode()


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwYXNz",
        "Bearer",
        "Bearer ",
        "token-without-scheme",
        "Bearer \u00e9.\u00e9.\u00e9",
        pytest.param("Bearer \ud800.e30.x", id="lone surrogate"),
        pytest.param("Bearer " + "a." * 50_000, id="100 KB of dots"),
    ],
)
def test_a_malformed_authorization_header_is_denied(auth: Any, header: str) -> None:
    assert auth.http.get("/users/me", headers={"Authorization": header}).status_code == 403


def test_a_missing_authorization_header_is_a_401(auth: Any) -> None:
    response = auth.http.get("/users/me")

    assert response.status_code == 401
    assert json_body(response) == {"message": "Unauthorized"}


def test_a_token_signed_by_a_second_key_of_the_ring_verifies(auth: Any, alice: dict[str, Any], key_ring: Any) -> None:
    # Rotation: the ring publishes a new key, then signs with it; old tokens keep working.
    keys = services.load("auth").module("keys")
    rotated = key_ring.with_new_key()
    new_kid = next(kid for kid in rotated.keys if kid != key_ring.active)
    rotated = rotated.activate(new_kid)
    keys.key_ring.override(rotated)
    keys.verifier.reset()

    old = _me(auth, alice["tokens"]["access_token"])
    new = _me(auth, rotated.sign(tokens.claims(alice["user"]["user_id"])))

    assert old.status_code == new.status_code == 200


def test_deployed_the_authorizer_takes_its_api_s_url_for_the_issuer_without_reading_the_parameter(
    auth: Any, alice: dict[str, Any], key_ring: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As deployed: TOKEN_ISSUER refers to a parameter, which does not exist here: reading it
    # would fail the authorizer. Chalice's local gateway names its API in the methodArn
    # (LocalARNBuilder) as API Gateway does.
    monkeypatch.setenv("TOKEN_ISSUER", "ssm:/profiles/local/auth/url")
    auth_module = services.load("auth")
    auth_module.module("settings").issuer.reset()
    auth_module.module("keys").verifier.reset()
    own_url = "https://ymy8tbxw7b.execute-api.mars-west-1.amazonaws.com/api"
    user_id = alice["user"]["user_id"]

    assert _me(auth, key_ring.sign(tokens.claims(user_id, iss=own_url))).status_code == 200
    assert _me(auth, key_ring.sign(tokens.claims(user_id, iss=own_url + "/"))).status_code == 403
    assert _me(auth, key_ring.sign(tokens.claims(user_id))).status_code == 403  # the local stage's issuer

"""Common JOSE libraries verify the auth service's access tokens, finding the keys as OIDC clients do.

Each starts from the issuer alone: ``issuer`` + ``/.well-known/openid-configuration``
gives ``jwks_uri``, the JWKS gives the key for the token's ``kid``, and the library
verifies the ES256 signature, ``iss`` and ``aud`` with its own defaults.
"""

from __future__ import annotations

import json
from typing import Any

import jose.jwt
import joserfc.jwk
import joserfc.jwt
import jwcrypto.jwk
import jwcrypto.jwt
import jwt as pyjwt
import pytest
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator

from tests.e2e.api import TIMEOUT_S, Api, User
from tools import stages

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


@pytest.fixture(scope="module")
def issuer(api: Api) -> str:
    return api.urls["auth"]


@pytest.fixture(scope="module")
def audience() -> str:
    return stages.stage_env("auth", "local")["TOKEN_AUDIENCE"]


@pytest.fixture(scope="module")
def jwks(api: Api, issuer: str) -> dict[str, Any]:
    """The JWKS, found from the issuer through the discovery document."""
    metadata = api.session.get(issuer + "/.well-known/openid-configuration", timeout=TIMEOUT_S).json()
    assert metadata["issuer"] == issuer
    return api.session.get(metadata["jwks_uri"], timeout=TIMEOUT_S).json()  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def user(api: Api) -> User:
    return api.new_user("jose")


def test_pyjwt_verifies_an_access_token(user: User, jwks: dict[str, Any], issuer: str, audience: str) -> None:
    kid = pyjwt.get_unverified_header(user.access_token)["kid"]
    key = pyjwt.PyJWKSet.from_dict(jwks)[kid]

    claims = pyjwt.decode(user.access_token, key, algorithms=["ES256"], issuer=issuer, audience=audience)

    assert claims["sub"] == user.user_id


def test_jwcrypto_verifies_an_access_token(user: User, jwks: dict[str, Any], issuer: str, audience: str) -> None:
    keys = jwcrypto.jwk.JWKSet.from_json(json.dumps(jwks))

    token = jwcrypto.jwt.JWT(
        jwt=user.access_token, key=keys, algs=["ES256"], check_claims={"iss": issuer, "aud": audience, "exp": None}
    )

    assert json.loads(token.claims)["sub"] == user.user_id


def test_joserfc_verifies_an_access_token_with_its_default_algorithms(
    user: User, jwks: dict[str, Any], issuer: str, audience: str
) -> None:
    keys = joserfc.jwk.KeySet.import_key_set(jwks)  # type: ignore[arg-type]

    token = joserfc.jwt.decode(user.access_token, keys)  # no algorithms given: joserfc's recommended set
    joserfc.jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer}, aud={"essential": True, "value": audience}
    ).validate(token.claims)

    assert token.header["alg"] == "ES256"
    assert token.claims["sub"] == user.user_id


def test_python_jose_verifies_an_access_token(user: User, jwks: dict[str, Any], issuer: str, audience: str) -> None:
    claims = jose.jwt.decode(user.access_token, jwks, algorithms=["ES256"], issuer=issuer, audience=audience)

    assert claims["sub"] == user.user_id


def test_a_token_from_another_issuer_is_refused_by_the_libraries(
    user: User, jwks: dict[str, Any], audience: str
) -> None:
    key = pyjwt.PyJWKSet.from_dict(jwks)[pyjwt.get_unverified_header(user.access_token)["kid"]]

    with pytest.raises(pyjwt.InvalidIssuerError):
        pyjwt.decode(
            user.access_token, key, algorithms=["ES256"], issuer="https://elsewhere.example", audience=audience
        )
    with pytest.raises(jose.jwt.JWTClaimsError):
        jose.jwt.decode(
            user.access_token, jwks, algorithms=["ES256"], issuer="https://elsewhere.example", audience=audience
        )


def test_authlibs_rfc9068_validator_accepts_an_access_token_as_a_resource_server(
    user: User, jwks: dict[str, Any], issuer: str, audience: str
) -> None:
    # GIVEN authlib's resource-server validator of RFC 9068 JWT access tokens, given the JWKS
    class Validator(JWTBearerTokenValidator):  # type: ignore[misc]
        def get_jwks(self) -> joserfc.jwk.KeySet:
            return joserfc.jwk.KeySet.import_key_set(jwks)  # type: ignore[arg-type]

    validator = Validator(issuer=issuer, resource_server=audience)

    # WHEN it authenticates and validates a user's access token for one of its scopes
    claims = validator.authenticate_token(user.access_token)
    validator.validate_token(claims, scopes=["profile:write"], request=None)

    # THEN the token is what RFC 9068 asks: its type, and the client that got it
    assert claims.header["typ"] == "at+jwt"
    assert claims["client_id"] == "public_client"
    assert claims["sub"] == user.user_id

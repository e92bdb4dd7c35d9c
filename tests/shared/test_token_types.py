"""RFC 9068: the services accept access tokens that say they are (``typ: at+jwt``) and carry their ``client_id``.

Tokens in the shape the auth service signed before (``typ: JWT``, no ``client_id``) are still
accepted, so that nobody is turned away while they expire (15 minutes after a stage moved over).
"""

from __future__ import annotations

from typing import Any

import jwt
import pytest

from servicekit.keyring import KeyRing
from servicekit.tokens import InvalidTokenError, KeySet, TokenVerifier
from tests.support.tokens import AUDIENCE, ISSUER, claims


@pytest.fixture(scope="module")
def ring() -> Any:
    return KeyRing.generate()


@pytest.fixture(scope="module")
def verifier(ring: Any) -> TokenVerifier:
    return TokenVerifier(KeySet(ring.jwks, initial=ring.jwks()), issuer=ISSUER, audience=AUDIENCE)


def _signed(ring: Any, payload: dict[str, Any], typ: str | None) -> str:
    headers: dict[str, Any] = {"kid": ring.active, "typ": typ}
    if typ is None:
        headers["typ"] = None  # PyJWT leaves a header of None out
    return jwt.encode(payload, ring.keys[ring.active], algorithm="ES256", headers=headers)


def test_the_auth_services_signature_says_at_jwt(ring: Any) -> None:
    token = ring.sign(claims("u-1"))

    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt"])
def test_an_access_token_that_says_so_is_accepted(ring: Any, verifier: TokenVerifier, typ: str) -> None:
    assert verifier.verify(_signed(ring, claims("u-1"), typ)).subject == "u-1"


def test_an_access_token_without_its_client_id_is_refused(ring: Any, verifier: TokenVerifier) -> None:
    with pytest.raises(InvalidTokenError, match="client_id"):
        verifier.verify(_signed(ring, claims("u-1", client_id=None), "at+jwt"))


def test_a_token_in_the_shape_signed_before_rfc_9068_is_accepted_while_it_lasts(
    ring: Any, verifier: TokenVerifier
) -> None:
    assert verifier.verify(_signed(ring, claims("u-1", client_id=None), "JWT")).subject == "u-1"


def test_a_typ_jwt_token_with_a_client_id_is_refused(ring: Any, verifier: TokenVerifier) -> None:
    # Only the auth service's old tokens may say JWT, and those never had a client_id.
    with pytest.raises(InvalidTokenError, match="at\\+jwt"):
        verifier.verify(_signed(ring, claims("u-1"), "JWT"))


@pytest.mark.parametrize("typ", [None, "JOSE", "id+jwt", "logout+jwt", "application/jwt"])
def test_a_token_of_another_type_or_none_is_refused(ring: Any, verifier: TokenVerifier, typ: str | None) -> None:
    with pytest.raises(InvalidTokenError, match="is not an access token"):
        verifier.verify(_signed(ring, claims("u-1"), typ))

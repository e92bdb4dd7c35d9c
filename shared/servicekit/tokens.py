"""Verifying the auth service's access tokens against its published JWKS.

The algorithm is pinned: only EdDSA (Ed25519) signatures verify, so ``alg: none``,
HS256 signed with the public key and any other algorithm are rejected before any key
is used. The key must be one the JWKS lists under the token's ``kid``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
import msgspec

logger = logging.getLogger(__name__)

ALGORITHM = "EdDSA"
MAX_LIFETIME_S = 15 * 60
REQUIRED_CLAIMS = ["iss", "sub", "aud", "iat", "nbf", "exp", "jti", "scope"]
JWKS_PATH = "/.well-known/jwks.json"
# An unknown kid may mean the auth service rotated keys: refetch, but at most this often,
# so that a flood of forged kids cannot turn into a flood of calls to the auth service.
REFETCH_INTERVAL_S = 60.0
LEEWAY_S = 5


class InvalidTokenError(Exception):
    """The token is malformed, forged, expired, or not meant for us."""


class Claims(msgspec.Struct, frozen=True):
    """The verified claims the services use."""

    subject: str
    scopes: frozenset[str]


class KeySet:
    """The auth service's public keys, fetched once and refetched on an unknown ``kid``.

    ``initial``, a JWKS document handed over at deploy time, gives the keys without a
    fetch: a cold authorizer then needs no call to the auth service. A ``kid`` it does
    not list (the keys rotated since) is fetched as if there had been no document.
    """

    def __init__(
        self, fetch: Callable[[], Any], clock: Callable[[], float] = time.monotonic, initial: Any = None
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        if initial is not None:
            self._keys = _usable_keys(initial)

    def key(self, kid: str) -> Any:
        """The public key for ``kid``; ``InvalidTokenError`` if the JWKS has none."""
        key = self._keys.get(kid)
        if key is None:
            with self._lock:
                key = self._keys.get(kid)
                if key is None and self._may_refetch():
                    self._refresh()
                    key = self._keys.get(kid)
        if key is None:
            raise InvalidTokenError(f"unknown key id {kid!r}")
        return key

    def _may_refetch(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= REFETCH_INTERVAL_S

    def _refresh(self) -> None:
        self._fetched_at = self._clock()
        try:
            keys = _usable_keys(self._fetch())
        except Exception as exc:  # noqa: BLE001 - any failure to get keys means: verify nothing new
            logger.warning("could not fetch the JWKS: %s", exc)
            return
        self._keys = keys


def _usable_keys(document: Any) -> dict[str, Any]:
    """The keys of a JWKS document that can verify our tokens, by ``kid``."""
    keys = jwt.PyJWKSet.from_dict(document).keys
    return {k.key_id: k.key for k in keys if k.key_id and k.algorithm_name == ALGORITHM}


class TokenVerifier:
    """Checks signature, ``alg``, ``kid``, ``exp``, ``nbf``, ``iat``, ``iss`` and ``aud``."""

    def __init__(self, keys: KeySet, *, issuer: str, audience: str) -> None:
        self._keys = keys
        self._issuer = issuer
        self._audience = audience

    def verify(self, token: str) -> Claims:
        """The token's claims if it is valid, else ``InvalidTokenError`` saying why."""
        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, UnicodeError) as exc:
            # PyJWT encodes the token to UTF-8 before its own checks: a lone surrogate
            # (possible in a decoded header) raises UnicodeEncodeError, not a PyJWTError.
            raise InvalidTokenError(f"malformed token: {exc}") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidTokenError(f"algorithm {header.get('alg')!r} is not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidTokenError("the token has no key id")
        try:
            claims = jwt.decode(
                token,
                key=self._keys.key(kid),
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                leeway=LEEWAY_S,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(str(exc)) from exc
        if (
            not all(isinstance(claims[c], int) for c in ("iat", "nbf", "exp"))
            or claims["exp"] - claims["iat"] > MAX_LIFETIME_S
        ):
            raise InvalidTokenError("the token's lifetime is longer than allowed")
        if not isinstance(claims["sub"], str) or not isinstance(claims["scope"], str):
            raise InvalidTokenError("malformed sub or scope claim")
        return Claims(subject=claims["sub"], scopes=frozenset(claims["scope"].split()))

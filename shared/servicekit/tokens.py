"""Verifying the auth service's access tokens against its published JWKS.

The algorithm is pinned: only ES256 (ECDSA on P-256) signatures verify, so ``alg: none``,
HS256 signed with the public key and any other algorithm are rejected before any key
is used. The key must be a P-256 key the JWKS lists under the token's ``kid``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import jwt
import msgspec
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey

from .text import clip

logger = logging.getLogger(__name__)

ALGORITHM = "ES256"
# RFC 9068 section 2.1: an access token's header says what it is (section 4: either spelling).
ACCESS_TOKEN_TYPE = "at+jwt"  # noqa: S105 - a media type, not a secret
ACCESS_TOKEN_TYPES = frozenset({ACCESS_TOKEN_TYPE, "application/at+jwt"})
# What the auth service signed before it followed RFC 9068: ``typ: JWT`` and no ``client_id``.
# Still accepted in that shape only, so that nobody is turned away while the tokens issued
# before a stage moved over expire (within 15 minutes; docs/security.md).
LEGACY_TOKEN_TYPE = "jwt"  # noqa: S105 - a media type, not a secret
CURVE = "secp256r1"  # P-256, the only curve ES256 allows (RFC 7518 section 3.4)
MAX_LIFETIME_S = 15 * 60
REQUIRED_CLAIMS = ["iss", "sub", "aud", "iat", "nbf", "exp", "jti", "scope"]
RFC_9068_CLAIMS = [*REQUIRED_CLAIMS, "client_id"]
JWKS_PATH = "/.well-known/jwks.json"
# An unknown kid may mean the auth service rotated keys: refetch, but at most this often
# after a successful fetch, so that a flood of forged kids cannot flood the auth service.
REFETCH_INTERVAL_S = 60.0
# ...unless the token was issued after the keys in hand were fetched: its key may have been
# activated since, so it is fetched at once, at most this often (forged tokens can claim
# any issue time: this is the bound on the fetches they can force).
NEWER_TOKEN_REFETCH_INTERVAL_S = 1.0
# After a failed fetch, the next try waits this long (the last delay repeats): seconds, not
# a minute, because until the keys are back every new key id is an error, not a Deny.
RETRY_BACKOFF_S = (1.0, 2.0, 5.0)
LEEWAY_S = 5


class InvalidTokenError(Exception):
    """The token is malformed, forged, expired, or not meant for us."""


class KeysUnavailableError(Exception):
    """The JWKS could not be fetched, so a token with a key id not yet known cannot be checked.

    Not the token's fault: the authorizer must not answer with a Deny, which API Gateway
    would cache for the token and turn into a minute of 403s for a valid user.
    """


class Claims(msgspec.Struct, frozen=True):
    """The verified claims the services use."""

    subject: str
    scopes: frozenset[str]


class KeySet:
    """The auth service's public keys, fetched once and refetched on an unknown ``kid`` (and when old).

    Keys already known keep verifying whatever happens to later fetches. A failed fetch
    raises ``KeysUnavailableError`` and is retried after ``RETRY_BACKOFF_S``; meanwhile
    an unknown ``kid`` raises it again without a call, so a down auth service is not
    hammered by every request.

    ``initial``, a JWKS document handed over at deploy time, gives the keys without a
    fetch: a cold authorizer then needs no call to the auth service. A ``kid`` it does
    not list (the keys rotated since) is fetched as if there had been no document.

    With ``max_age_s``, keys older than that are fetched again on the next token, so that a
    retired key stops verifying within that time with no redeploy; should that fetch fail,
    the keys in hand keep verifying.

    An unknown ``kid`` on a token issued (``iat``, unverified) after the keys in hand were
    fetched is fetched at once, whatever ``REFETCH_INTERVAL_S`` says, at most once per
    ``NEWER_TOKEN_REFETCH_INTERVAL_S``: a key activated since is then known on its first
    token, with no minute of 403s.
    """

    def __init__(
        self,
        fetch: Callable[[], Any],
        clock: Callable[[], float] = time.monotonic,
        initial: Any = None,
        *,
        max_age_s: float | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._wall_clock = wall_clock
        self._max_age_s = max_age_s
        self._lock = threading.Lock()
        self._keys: dict[str, Any] = _usable_keys(initial) if initial is not None else {}
        self._fetched_at = clock()
        self._fetched_at_epoch = wall_clock() if initial is not None else float("-inf")
        self._next_fetch_at: float | None = None
        self._failures = 0

    def key(self, kid: str, issued_at: float | None = None) -> Any:
        """The public key for ``kid``: ``InvalidTokenError`` if the JWKS has none, ``KeysUnavailableError``
        if the JWKS cannot be fetched now. ``issued_at``: the token's ``iat``, if it has a number there."""
        key = self._keys.get(kid)
        if key is None or self._is_old():
            with self._lock:
                unknown = kid not in self._keys
                if (unknown or self._is_old()) and self._fetch_is_due(issued_at if unknown else None):
                    try:
                        self._refresh()
                    except KeysUnavailableError:
                        if kid not in self._keys:
                            raise
                elif kid not in self._keys and self._failures:
                    raise KeysUnavailableError("the signing keys could not be fetched; retrying shortly")
                key = self._keys.get(kid)
        if key is None:
            raise InvalidTokenError(f"unknown key id {clip(kid)}")
        return key

    def knows(self, kid: str) -> bool:
        """Whether ``kid`` is among the keys in hand (no fetch)."""
        return kid in self._keys

    def _is_old(self) -> bool:
        return self._max_age_s is not None and self._clock() - self._fetched_at >= self._max_age_s

    def _fetch_is_due(self, issued_at: float | None = None) -> bool:
        now = self._clock()
        if self._next_fetch_at is None or now >= self._next_fetch_at:
            return True
        newer = issued_at is not None and issued_at > self._fetched_at_epoch
        return newer and not self._failures and now >= self._fetched_at + NEWER_TOKEN_REFETCH_INTERVAL_S

    def _refresh(self) -> None:
        try:
            keys = _usable_keys(self._fetch())
        except Exception as exc:  # any failure to get keys means: no new keys, retry soon
            self._failures += 1
            delay = RETRY_BACKOFF_S[min(self._failures, len(RETRY_BACKOFF_S)) - 1]
            self._next_fetch_at = self._clock() + delay
            logger.warning("could not fetch the JWKS (failure %d, next try in %.0f s): %s", self._failures, delay, exc)
            raise KeysUnavailableError("the signing keys could not be fetched; retrying shortly") from exc
        self._failures = 0
        self._fetched_at, self._fetched_at_epoch = self._clock(), self._wall_clock()
        self._next_fetch_at = self._fetched_at + REFETCH_INTERVAL_S
        self._keys = keys


def _issued_at(token: str) -> float | None:
    """The token's ``iat`` before any check, if it is a number (only to decide whether to fetch keys)."""
    try:
        iat = jwt.decode(token, options={"verify_signature": False}).get("iat")
    except (jwt.PyJWTError, UnicodeError):
        return None
    return float(iat) if isinstance(iat, int | float) and not isinstance(iat, bool) else None


def _usable_keys(document: Any) -> dict[str, Any]:
    """The keys of a JWKS document that can verify our tokens (P-256, our algorithm), by ``kid``."""
    keys = jwt.PyJWKSet.from_dict(document).keys
    return {k.key_id: k.key for k in keys if k.key_id and k.algorithm_name == ALGORITHM and _is_p256(k.key)}


def _is_p256(key: Any) -> bool:
    return isinstance(key, EllipticCurvePublicKey) and key.curve.name == CURVE


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
            raise InvalidTokenError(f"malformed token: {clip(str(exc))}") from exc
        if header.get("alg") != ALGORITHM:
            raise InvalidTokenError(f"algorithm {clip(header.get('alg'))} is not accepted")
        typ = header.get("typ")
        legacy = isinstance(typ, str) and typ.lower() == LEGACY_TOKEN_TYPE
        if not legacy and (not isinstance(typ, str) or typ.lower() not in ACCESS_TOKEN_TYPES):
            raise InvalidTokenError(f"the token's type {clip(typ)} is not an access token's (at+jwt)")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidTokenError("the token has no key id")
        try:
            claims = jwt.decode(
                token,
                key=self._keys.key(kid, None if self._keys.knows(kid) else _issued_at(token)),
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                audience=self._audience,
                leeway=LEEWAY_S,
                options={"require": REQUIRED_CLAIMS if legacy else RFC_9068_CLAIMS},
            )
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(clip(str(exc))) from exc
        if legacy and "client_id" in claims:
            raise InvalidTokenError("a token with a client_id must say it is an access token (typ at+jwt)")
        if (
            not all(isinstance(claims[c], int) for c in ("iat", "nbf", "exp"))
            or claims["exp"] - claims["iat"] > MAX_LIFETIME_S
        ):
            raise InvalidTokenError("the token's lifetime is longer than allowed")
        if not isinstance(claims["sub"], str) or not isinstance(claims["scope"], str):
            raise InvalidTokenError("malformed sub or scope claim")
        return Claims(subject=claims["sub"], scopes=frozenset(claims["scope"].split()))

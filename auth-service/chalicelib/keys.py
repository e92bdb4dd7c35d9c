"""The auth service's signing keys: a key ring with one active key, published as a JWKS.

The ring is a JSON document kept as a secret (an SSM SecureString parameter in
deployed stages, a file locally): ``{"active": <kid>, "keys": [{"kid", "private_key"}]}``
with PKCS#8 PEM P-256 keys (ES256). Every key in the ring is published, so tokens signed
by a key being rotated out still verify; only the active one signs. See
docs/security.md for the rotation procedure.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from servicekit import env, parameters
from servicekit.authorizer import handed_over_jwks
from servicekit.lazy import Lazy
from servicekit.tokens import ACCESS_TOKEN_TYPE, ALGORITHM, CURVE, KeySet, TokenVerifier

from .settings import issuer, settings


def new_key() -> ec.EllipticCurvePrivateKey:
    """A new P-256 private key."""
    return ec.generate_private_key(ec.SECP256R1())


def _public_jwk(private_key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    return ECAlgorithm.to_jwk(private_key.public_key(), as_dict=True)  # type: ignore[no-any-return]


def thumbprint(private_key: ec.EllipticCurvePrivateKey) -> str:
    """The RFC 7638 thumbprint of the public key, in hex: a stable, collision-free ``kid``.

    Hex rather than the usual base64url: a base64url ``kid`` starts with ``-`` one time
    in 64, and an operator's ``tools.admin retire-signing-key -Ab3...`` then reads as
    an option.
    """
    public = _public_jwk(private_key)
    canonical = json.dumps({k: public[k] for k in ("crv", "kty", "x", "y")}, separators=(",", ":"), sort_keys=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class KeyRing:
    """Private keys by ``kid`` and the one that signs."""

    keys: Mapping[str, ec.EllipticCurvePrivateKey]
    active: str

    @classmethod
    def generate(cls) -> KeyRing:
        """A ring holding one new key, active."""
        key = new_key()
        return cls({thumbprint(key): key}, thumbprint(key))

    @classmethod
    def loads(cls, document: str) -> KeyRing:
        """Parse the stored document."""
        data = json.loads(document)
        keys = {}
        for entry in data["keys"]:
            key = serialization.load_pem_private_key(entry["private_key"].encode(), password=None)
            if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != CURVE:
                # Rings from before ES256 held Ed25519 keys: docs/security.md says how to replace one.
                raise ValueError(f"key {entry['kid']} is not a P-256 key (ES256)")
            keys[entry["kid"]] = key
        if data["active"] not in keys:
            raise ValueError("the active key is not in the ring")
        return cls(keys, data["active"])

    def dumps(self) -> str:
        """The document to store."""
        return json.dumps(
            {
                "active": self.active,
                "keys": [
                    {
                        "kid": kid,
                        "private_key": key.private_bytes(
                            serialization.Encoding.PEM,
                            serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption(),
                        ).decode(),
                    }
                    for kid, key in self.keys.items()
                ],
            },
            indent=2,
        )

    def with_new_key(self) -> KeyRing:
        """Rotation step 1: add a key, published but not yet signing."""
        key = new_key()
        return KeyRing({**self.keys, thumbprint(key): key}, self.active)

    def activate(self, kid: str) -> KeyRing:
        """Rotation step 2: sign with ``kid`` from now on."""
        if kid not in self.keys:
            raise ValueError(f"no key {kid} in the ring")
        return KeyRing(self.keys, kid)

    def without(self, kid: str) -> KeyRing:
        """Rotation step 3: drop a retired key (never the active one)."""
        if kid == self.active:
            raise ValueError("the active key cannot be removed")
        return KeyRing({k: v for k, v in self.keys.items() if k != kid}, self.active)

    def sign(self, claims: Mapping[str, Any]) -> str:
        """An access token: a compact JWS of ``claims`` with the active key, ``kid`` and RFC 9068's ``typ``."""
        headers = {"kid": self.active, "typ": ACCESS_TOKEN_TYPE}
        return jwt.encode(dict(claims), self.keys[self.active], algorithm=ALGORITHM, headers=headers)

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public half of every key in the ring."""
        return {
            "keys": [{**_public_jwk(key), "kid": kid, "use": "sig", "alg": ALGORITHM} for kid, key in self.keys.items()]
        }


def new_token_id() -> str:
    """A unique ``jti``."""
    return uuid.uuid4().hex


def _load() -> KeyRing:
    reference = settings().signing_keys
    try:
        return KeyRing.loads(parameters.read(reference))
    except parameters.ParameterNotFoundError:
        if not env.is_local():
            raise
    # The local stage makes its own key on first start (`make run` writes one first).
    ring = KeyRing.generate()
    parameters.write(reference, ring.dumps())
    return ring


# How old the process's copy of the key ring may grow: a key ring command (a key added,
# activated or retired) reaches every warm auth function within this time, with no
# redeploy or recycling; it costs one read of the secret per function and minute.
KEY_RING_MAX_AGE_S = 60.0

key_ring = Lazy(_load, max_age_s=KEY_RING_MAX_AGE_S)
"""The process's key ring, read from its secret on a cold start and again once it is a minute old."""


def _own_verifier() -> TokenVerifier:
    # The auth service verifies its own tokens against its own ring (no HTTP to itself), or
    # against the public keys handed over at deploy time (no secret read at cold start).
    return TokenVerifier(
        KeySet(lambda: key_ring().jwks(), initial=handed_over_jwks(), max_age_s=KEY_RING_MAX_AGE_S),
        issuer=issuer(),
        audience=settings().audience,
    )


verifier = Lazy(_own_verifier)
"""The auth service's own token verifier."""


def verifier_for(own_api_url: str | None) -> TokenVerifier:
    """The verifier of the auth service's authorizer, for tokens presented to the API at ``own_api_url``.

    Deployed, the issuer is this API's URL, which the function cannot be handed (a
    parameter holds it); the authorizer knows it from its request, so its first token is
    verified without reading the parameter: no boto3, no SSM call on its cold start
    (docs/performance.md).
    """
    if own_api_url is not None:
        issuer.provide(parameters.token_issuer(own_api_url))
    return verifier()

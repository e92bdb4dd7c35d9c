"""The key ring's format: the auth service's signing keys, one active, and the JWKS that publishes them.

The ring is a JSON document kept as a secret (an SSM SecureString parameter in
deployed stages, a file locally): ``{"active": <kid>, "keys": [{"kid", "private_key"}]}``
with PKCS#8 PEM P-256 keys (ES256). Every key in the ring is published, so tokens signed
by a key being rotated out still verify; only the active one signs. See
docs/security.md for the rotation procedure.

Shared knowledge: the auth service signs with the ring and publishes its JWKS, every
authorizer verifies against that JWKS (``servicekit.tokens``, with the same algorithm and
curve), and the tools (``tools.admin``'s key commands, ``make bench``) make and rotate
rings in this format. Only the auth service and the tools import this module; it costs
the other services nothing at run time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from .tokens import ACCESS_TOKEN_TYPE, ALGORITHM, CURVE

# How old the auth service's copy of the ring may grow: a key command (a key added,
# activated or retired) reaches every warm auth function within this time, with no
# redeploy or recycling; it costs one read of the secret per function and minute.
MAX_AGE_S = 60.0


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

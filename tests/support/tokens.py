"""Tokens for tests: real ones signed with a test key ring, and the forgeries attackers try."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ISSUER = "http://127.0.0.1:8001"  # the local stage's AUTH_URL
AUDIENCE = "urn:profiles:api:local"
USER_SCOPE = "profile:write location:write"


def claims(sub: str, scope: str = USER_SCOPE, **overrides: Any) -> dict[str, Any]:
    """Valid claims for ``sub``; ``overrides`` replace or (with None) remove claims."""
    now = int(time.time())
    values = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "client_id": "public_client",
        "scope": scope,
        "iat": now,
        "nbf": now,
        "exp": now + 900,
        "jti": uuid.uuid4().hex,
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


def sign(ring: Any, payload: dict[str, Any]) -> str:
    """Signed by the ring's active key, exactly as the auth service signs."""
    return ring.sign(payload)  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    """The Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


def json_headers_for(ring: Any, subject: str, scope: str = USER_SCOPE) -> dict[str, str]:
    """JSON request headers with a valid token of ``subject`` holding ``scope``."""
    return {"Content-Type": "application/json", **bearer(ring.sign(claims(subject, scope=scope)))}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def alg_none(payload: dict[str, Any], kid: str) -> str:
    """An unsigned token claiming ``alg: none``."""
    header = {"alg": "none", "typ": "JWT", "kid": kid}
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}."


def hs256_with_public_key(ring: Any, payload: dict[str, Any]) -> str:
    """The key-confusion attack: HMAC-signed with the public key's bytes as the secret."""
    public = (
        ring.keys[ring.active]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    # PyJWT refuses PEM keys as HMAC secrets (its own defence), so sign by hand.
    import hashlib
    import hmac

    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": ring.active}).encode())
    body = _b64(json.dumps(payload).encode())
    signature = hmac.new(public, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def unknown_key(payload: dict[str, Any]) -> str:
    """Well formed and ES256-signed, by a key the JWKS does not list."""
    key = ec.generate_private_key(ec.SECP256R1())
    return jwt.encode(payload, key, algorithm="ES256", headers={"kid": "not-a-known-kid"})


def tampered(token: str) -> str:
    """The payload changed after signing (the subject swapped), signature kept."""
    header, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    decoded["sub"] = str(uuid.uuid4())
    return f"{header}.{_b64(json.dumps(decoded).encode())}.{signature}"

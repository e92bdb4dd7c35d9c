"""The auth service's signing keys: its key ring (``servicekit.keyring``'s format), read from its secret.

The ring is read on a cold start and again once it is a minute old, so a key command of
``tools.admin`` reaches every warm function without a redeploy. See docs/security.md for
the rotation procedure.
"""

from __future__ import annotations

import uuid

from servicekit import env, parameters
from servicekit.authorizer import handed_over_jwks
from servicekit.keyring import MAX_AGE_S, KeyRing
from servicekit.lazy import Lazy
from servicekit.tokens import KeySet, TokenVerifier

from .settings import issuer, settings


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


key_ring = Lazy(_load, max_age_s=MAX_AGE_S)
"""The process's key ring, read from its secret on a cold start and again once it is a minute old."""


def _own_verifier() -> TokenVerifier:
    # The auth service verifies its own tokens against its own ring (no HTTP to itself), or
    # against the public keys handed over at deploy time (no secret read at cold start).
    return TokenVerifier(
        KeySet(lambda: key_ring().jwks(), initial=handed_over_jwks(), max_age_s=MAX_AGE_S),
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

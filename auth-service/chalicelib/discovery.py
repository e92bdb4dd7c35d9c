"""RFC 8414 authorization server metadata: where a client finds the endpoints and keys."""

from __future__ import annotations

from .models import GRANT_TYPES, Metadata
from .settings import SCOPES, issuer

# "none": a public client naming itself with client_id alone (code, password and refresh grants).
CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


def metadata() -> Metadata:
    """The metadata document; ``issuer`` is every token's ``iss``."""
    base = issuer()
    return Metadata(
        issuer=base,
        authorization_endpoint=f"{base}/authorize",
        token_endpoint=f"{base}/token",
        jwks_uri=f"{base}/.well-known/jwks.json",
        revocation_endpoint=f"{base}/token/revoke",
        grant_types_supported=list(GRANT_TYPES),
        token_endpoint_auth_methods_supported=CLIENT_AUTH_METHODS,
        revocation_endpoint_auth_methods_supported=CLIENT_AUTH_METHODS,
        scopes_supported=list(SCOPES),
        response_types_supported=["code"],
        code_challenge_methods_supported=["S256"],  # PKCE is required, S256 only (RFC 7636, RFC 9700)
        authorization_response_iss_parameter_supported=True,  # RFC 9207
    )

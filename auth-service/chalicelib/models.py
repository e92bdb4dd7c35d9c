"""Request and response bodies of the auth service (the OpenAPI document is built from them).

No ``from __future__ import annotations`` here: msgspec resolves string annotations
through ``sys.modules``, and the tests load three ``chalicelib`` packages side by side.
"""

import re
from typing import Annotated, Literal

import msgspec

from servicekit.bodies import Model

from .passwords import commonness, normalized

# The contract's pattern, used with fullmatch: with match, ``$`` also accepts a trailing newline.
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")

Username = Annotated[str, msgspec.Meta(min_length=3, max_length=32, description="Lower-cased before it is checked.")]
Password = Annotated[str, msgspec.Meta(min_length=12, max_length=128)]
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


def _normalize_username(username: str) -> str:
    lowered = username.lower()
    if not USERNAME_PATTERN.fullmatch(lowered):
        raise ValueError(
            "Invalid username: 3 to 32 characters of a-z, 0-9, '_', '.', '-', "
            "starting with a letter or digit - at `$.username`"
        )
    return lowered


class Registration(Model):
    """``POST /users``."""

    username: Username
    password: Password

    def __post_init__(self) -> None:
        self.username = _normalize_username(self.username)
        if normalized(self.password).lower() == self.username:
            raise ValueError("The password must not be the username - at `$.password`")
        refused = commonness(self.password, self.username)
        if refused:
            raise ValueError(f"{refused} - at `$.password`")


ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]

# RFC 6749 section 2.3.1: a client authenticates with HTTP Basic or with these two
# parameters; a public client names itself with ``client_id`` alone (section 3.2.1).


class PasswordGrant(Model, tag_field="grant_type", tag="password"):
    """A user logs in (RFC 6749 section 4.3)."""

    username: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    client_id: ClientId | None = None
    client_secret: Secret | None = None

    def __post_init__(self) -> None:
        self.username = self.username.lower()


class RefreshGrant(Model, tag_field="grant_type", tag="refresh_token"):
    """A refresh token is exchanged for a new pair (rotation; RFC 6749 section 6)."""

    refresh_token: Secret
    client_id: ClientId | None = None
    client_secret: Secret | None = None


class ClientCredentialsGrant(Model, tag_field="grant_type", tag="client_credentials"):
    """A service logs in (RFC 6749 section 4.4); its credentials may also come by HTTP Basic."""

    client_id: ClientId | None = None
    client_secret: Secret | None = None


Grant = PasswordGrant | RefreshGrant | ClientCredentialsGrant
GRANT_TYPES = ("password", "refresh_token", "client_credentials")


class Revocation(Model):
    """``POST /token/revoke`` (RFC 7009): ``token``, or revision 1's ``refresh_token``."""

    token: Secret | None = None
    token_type_hint: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    refresh_token: Secret | None = None
    client_id: ClientId | None = None
    client_secret: Secret | None = None


class OAuthErrorBody(msgspec.Struct):
    """RFC 6749 section 5.2: every error of ``POST /token`` and ``POST /token/revoke``."""

    error: str
    error_description: str


class Metadata(msgspec.Struct):
    """RFC 8414 authorization server metadata."""

    issuer: str
    token_endpoint: str
    jwks_uri: str
    revocation_endpoint: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    scopes_supported: list[str]
    response_types_supported: list[str]


class User(Model):
    """A registered user, as the API shows it."""

    user_id: str
    username: str
    created_at: str


class TokenResponse(Model, omit_defaults=True):
    """RFC 6749 section 5.1; no ``refresh_token`` for client credentials."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    refresh_token: str | None = None


class Jwk(msgspec.Struct):
    """A public key of the JWKS."""

    kty: str
    kid: str
    use: str
    alg: str
    crv: str
    x: str
    y: str


class Jwks(msgspec.Struct):
    """``GET /.well-known/jwks.json``."""

    keys: list[Jwk]


class Health(msgspec.Struct):
    """``GET /health``."""

    status: str
    service: str

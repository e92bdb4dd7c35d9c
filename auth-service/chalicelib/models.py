"""Request and response bodies of the auth service (the OpenAPI document is built from them).

No ``from __future__ import annotations`` here: msgspec resolves string annotations
through ``sys.modules``, and the tests load three ``chalicelib`` packages side by side.
"""

import re
from typing import Annotated, Literal

import msgspec

from servicekit.bodies import Model

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
        if self.password.lower() == self.username:
            raise ValueError("The password must not be the username - at `$.password`")


class PasswordGrant(Model, tag_field="grant_type", tag="password"):
    """A user logs in."""

    username: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]

    def __post_init__(self) -> None:
        self.username = self.username.lower()


class RefreshGrant(Model, tag_field="grant_type", tag="refresh_token"):
    """A refresh token is exchanged for a new pair (rotation)."""

    refresh_token: Secret


class ClientCredentialsGrant(Model, tag_field="grant_type", tag="client_credentials"):
    """A service logs in."""

    client_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    client_secret: Secret


Grant = PasswordGrant | RefreshGrant | ClientCredentialsGrant


class Revocation(Model):
    """``POST /token/revoke`` (RFC 7009)."""

    refresh_token: Secret


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


class Jwks(msgspec.Struct):
    """``GET /.well-known/jwks.json``."""

    keys: list[Jwk]


class Health(msgspec.Struct):
    """``GET /health``."""

    status: str
    service: str

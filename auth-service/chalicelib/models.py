"""Request and response bodies of the auth service (the OpenAPI document is built from them).

No ``from __future__ import annotations`` here: msgspec resolves string annotations
through ``sys.modules``, and the tests load three ``chalicelib`` packages side by side.
"""

import re
from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import UNSET, UnsetType

from servicekit.bodies import Model
from servicekit.openapi import Header, SecurityScheme

from .passwords import commonness, normalized

# The contract's pattern, used with fullmatch: with match, ``$`` also accepts a trailing newline.
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
# What a client may send: the contract's pattern before lower-casing. ASCII letters only, so
# that no other character lower-cases into one (the Kelvin sign U+212A becomes "k").
USERNAME_INPUT = r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,31}$"

Username = Annotated[
    str,
    msgspec.Meta(
        pattern=USERNAME_INPUT,
        min_length=3,
        max_length=32,
        description="Lower-cased, then stored: `Alice` registers as `alice`, and `ALICE` is then taken.",
    ),
]
Password = Annotated[
    str,
    msgspec.Meta(
        min_length=12,
        max_length=128,
        description="12 to 128 characters, not the username; at registration not a commonly used password"
        " (nor only spaces). Normalised to Unicode NFKC before it is hashed or checked.",
    ),
]
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
# A secret names its client (token_requests refuses a client_secret without a client_id);
# said in the documents as JSON Schema says it (servicekit.openapi merges it in).
CLIENT_SECRET_NEEDS_ID: dict[str, object] = {"dependentRequired": {"client_secret": ["client_id"]}}

# RFC 6749 section 2.3.1: a client authenticates with HTTP Basic or with these two
# parameters; a public client names itself with ``client_id`` alone (section 3.2.1).
# The token endpoints' optional parameters are UNSET when left out, never null: a form has
# no null (token_requests reads a JSON null as left out, as it reads an empty form value),
# and a document that said "nullable, default null" made generated clients send
# ``client_id=null``.


# RFC 6749 section 3.3: scope tokens of printable ASCII but space, '"' and '\\', separated by one space.
ScopeParam = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=1024,
        pattern=r"^[\x21\x23-\x5b\x5d-\x7e]+( [\x21\x23-\x5b\x5d-\x7e]+)*$",
        description="Space-separated scopes (RFC 6749 section 3.3); left out: all the caller may have",
    ),
]
# RFC 6749 section 3.1: the token endpoints ignore parameters they do not know (their models,
# unlike every other body of the services, let unknown fields pass); the documents say an
# unknown parameter is a string, as a form's parameters are, each given once.
TOKEN_ENDPOINT_RULES: dict[str, object] = {**CLIENT_SECRET_NEEDS_ID, "additionalProperties": {"type": "string"}}


class PasswordGrant(Model, tag_field="grant_type", tag="password", forbid_unknown_fields=False):
    """A user logs in (RFC 6749 section 4.3)."""

    json_schema_extra: ClassVar[dict[str, object]] = TOKEN_ENDPOINT_RULES

    username: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    client_id: ClientId | UnsetType = UNSET
    client_secret: Secret | UnsetType = UNSET
    scope: ScopeParam | UnsetType = UNSET

    def __post_init__(self) -> None:
        self.username = self.username.lower()


class RefreshGrant(Model, tag_field="grant_type", tag="refresh_token", forbid_unknown_fields=False):
    """A refresh token is exchanged for a new pair (rotation; RFC 6749 section 6)."""

    json_schema_extra: ClassVar[dict[str, object]] = TOKEN_ENDPOINT_RULES

    refresh_token: Secret
    client_id: ClientId | UnsetType = UNSET
    client_secret: Secret | UnsetType = UNSET
    scope: ScopeParam | UnsetType = UNSET


class ClientCredentialsGrant(Model, tag_field="grant_type", tag="client_credentials", forbid_unknown_fields=False):
    """A service logs in (RFC 6749 section 4.4); its credentials may also come by HTTP Basic."""

    json_schema_extra: ClassVar[dict[str, object]] = TOKEN_ENDPOINT_RULES

    client_id: ClientId | UnsetType = UNSET
    client_secret: Secret | UnsetType = UNSET
    scope: ScopeParam | UnsetType = UNSET


# RFC 7636 section 4.1: 43 to 128 characters of the URI's unreserved set.
CodeVerifier = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9._~-]{43,128}$",
        min_length=43,
        max_length=128,
        description="The PKCE verifier whose S256 challenge `GET /authorize` was given (RFC 7636 section 4.5)",
    ),
]
# RFC 7636 section 4.2: S256's challenge is a SHA-256 digest in base64url without padding, 43 characters.
CodeChallenge = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^[A-Za-z0-9_-]{43}$",
        min_length=43,
        max_length=43,
        description="BASE64URL(SHA256(code_verifier)) without padding (RFC 7636 section 4.2)",
    ),
]
RedirectUri = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=2000,
        description="Exactly one of the redirect URIs registered for the client (`tools.admin create-client`)",
    ),
]
# The client's value, given back as it came; bounded so that the redirect stays a URL browsers take.
MAX_STATE = 1024
State = Annotated[
    str, msgspec.Meta(min_length=1, max_length=MAX_STATE, description="Given back in the redirect as it came")
]


class AuthorizationCodeGrant(Model, tag_field="grant_type", tag="authorization_code", forbid_unknown_fields=False):
    """A browser or mobile app exchanges the code its user's login gave it (RFC 6749 section 4.1.3, RFC 7636)."""

    json_schema_extra: ClassVar[dict[str, object]] = TOKEN_ENDPOINT_RULES

    code: Secret
    redirect_uri: RedirectUri
    code_verifier: CodeVerifier
    client_id: ClientId | UnsetType = UNSET
    client_secret: Secret | UnsetType = UNSET


Grant = AuthorizationCodeGrant | PasswordGrant | RefreshGrant | ClientCredentialsGrant
GRANT_TYPES = ("authorization_code", "password", "refresh_token", "client_credentials")


class AuthorizationRequest(Model, forbid_unknown_fields=False):
    """``GET /authorize``'s query (RFC 6749 section 4.1.1, RFC 7636 section 4.3); other parameters are ignored."""

    response_type: Literal["code"]
    client_id: ClientId
    redirect_uri: RedirectUri
    code_challenge: CodeChallenge
    code_challenge_method: Literal["S256"]
    state: State | UnsetType = UNSET
    scope: ScopeParam | UnsetType = UNSET


# A login request's id, as the login page's form carries it back: 32 random bytes in base64url.
RequestId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{43}$", min_length=43, max_length=43)]


class LoginForm(Model):
    """``POST /authorize``: the login page's form (its cookie is the browser's half of the CSRF check)."""

    request: RequestId
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]
    password: Annotated[str, msgspec.Meta(min_length=1, max_length=128)]

    def __post_init__(self) -> None:
        self.username = self.username.lower()


class Revocation(Model, forbid_unknown_fields=False):
    """``POST /token/revoke`` (RFC 7009), the request its document describes."""

    json_schema_extra: ClassVar[dict[str, object]] = TOKEN_ENDPOINT_RULES

    token: Secret
    token_type_hint: Annotated[str, msgspec.Meta(max_length=64)] | UnsetType = UNSET
    client_id: ClientId | UnsetType = UNSET
    client_secret: Secret | UnsetType = UNSET


class LegacyRevocation(Model, forbid_unknown_fields=False):
    """Revision 1's JSON ``{"refresh_token": ...}``, still accepted; the documents describe ``Revocation``."""

    refresh_token: Secret
    token_type_hint: Annotated[str, msgspec.Meta(max_length=64)] | UnsetType = UNSET
    client_id: ClientId | UnsetType = UNSET
    client_secret: Secret | UnsetType = UNSET


class OAuthErrorBody(msgspec.Struct):
    """RFC 6749 section 5.2: every error of ``POST /token`` and ``POST /token/revoke``."""

    error: str
    error_description: str


class Metadata(msgspec.Struct):
    """RFC 8414 authorization server metadata."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    revocation_endpoint: str
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    scopes_supported: list[str]
    response_types_supported: list[str]
    code_challenge_methods_supported: list[str]
    authorization_response_iss_parameter_supported: bool


class User(Model):
    """A registered user, as the API shows it."""

    user_id: str
    username: str
    created_at: str


class TokenResponse(Model):
    """RFC 6749 section 5.1; no ``refresh_token`` for client credentials (left out, never null)."""

    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str
    refresh_token: str | UnsetType = UNSET


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


# The headers the auth service's answers carry, and its client authentication, as its
# OpenAPI document describes them.
CACHE_CONTROL = Header("Cache-Control", "`no-store` (RFC 6749 sections 5.1, 5.2).", {"type": "string"})
WWW_AUTHENTICATE = Header(
    "WWW-Authenticate",
    "A Basic challenge, when the client tried HTTP Basic authentication (RFC 6749 section 5.2).",
    {"type": "string"},
)
RETRY_AFTER = Header("Retry-After", "Seconds until the lockout ends.", {"type": "string", "pattern": "^[0-9]+$"}, True)
LOCATION = Header("Location", "Where the browser is sent.", {"type": "string"}, required=True)
SET_COOKIE = Header("Set-Cookie", "A cookie the browser keeps for the next request.", {"type": "string"})
CLIENT_BASIC = SecurityScheme(
    "client_basic",
    {
        "type": "http",
        "scheme": "basic",
        "description": (
            "A client's id and secret (RFC 6749 section 2.3.1, `client_secret_basic`), each form-encoded "
            "before the Basic encoding; the same as the `client_id` and `client_secret` parameters."
        ),
    },
)

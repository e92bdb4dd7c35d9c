"""Reading the token endpoints' requests as OAuth 2.0 clients send them.

RFC 6749 section 3.2: parameters come form-encoded (``application/x-www-form-urlencoded``,
what OAuth libraries send); JSON bodies with the same names are accepted too. A client
authenticates with HTTP Basic (section 2.3.1, ``client_secret_basic``) or with
``client_id`` and ``client_secret`` parameters (``client_secret_post``), never both.
Every problem is an ``InvalidRequestError`` (400) or ``RequestTooLargeError`` (413).
"""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
from chalice import BadRequestError
from chalice.app import Request
from msgspec import UNSET, UnsetType

from servicekit.bodies import MAX_BODY_BYTES, decode
from servicekit.errors import PayloadTooLargeError

from .errors import InvalidRequestError, RequestTooLargeError, UnsupportedGrantTypeError
from .models import GRANT_TYPES, Grant, LegacyRevocation, Revocation

FORM = "application/x-www-form-urlencoded"
CONTENT_TYPES = [FORM, "application/json"]
LEGACY_TOKEN = "refresh_token"  # noqa: S105 - revision 1's name of the revocation's parameter

M = TypeVar("M", bound=msgspec.Struct)


@dataclass(frozen=True)
class ClientCredentials:
    """Who the client says it is; ``secret`` None for a public client naming itself."""

    client_id: str
    secret: str | None
    basic: bool  # sent with HTTP Basic (a failure is then answered with a Basic challenge)


def grant(request: Request) -> tuple[Grant, ClientCredentials | None]:
    """The ``POST /token`` request's grant and client credentials."""
    params = _params(request)
    grant_type = params.get("grant_type")
    if grant_type is None:
        raise InvalidRequestError("The grant_type parameter is missing.")
    if not isinstance(grant_type, str):
        raise InvalidRequestError("The grant_type parameter must be a string.")
    if grant_type not in GRANT_TYPES:
        raise UnsupportedGrantTypeError(f"The grant type {str(grant_type)[:40]!r} is not supported.")
    parsed: Grant = _convert(params, Grant)  # type: ignore[arg-type]
    return parsed, _client(request, given(parsed.client_id), given(parsed.client_secret))


def revocation(request: Request) -> tuple[str, str | None, ClientCredentials | None]:
    """The token a ``POST /token/revoke`` request names (RFC 7009), its type hint, the client's credentials."""
    params = _params(request)
    if LEGACY_TOKEN in params and "token" in params:
        raise InvalidRequestError("Exactly one of the token and refresh_token parameters is needed.")
    parsed: Revocation | LegacyRevocation
    if LEGACY_TOKEN in params:
        legacy: LegacyRevocation = _convert(params, LegacyRevocation)
        parsed, token = legacy, legacy.refresh_token
    else:
        current: Revocation = _convert(params, Revocation)
        parsed, token = current, current.token
    client = _client(request, given(parsed.client_id), given(parsed.client_secret))
    return token, given(parsed.token_type_hint), client


def given(value: str | UnsetType) -> str | None:
    """A parameter's value, or None when the request left it out."""
    return None if value is UNSET else value  # type: ignore[return-value]


def caller_address(request: Request) -> str:
    """Where the request came from: API Gateway's ``sourceIp`` (the local stack's connecting address)."""
    identity = request.context.get("identity") or {}
    return str(identity.get("sourceIp") or "unknown")


def _params(request: Request) -> dict[str, Any]:
    content_type = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if content_type != FORM:
        try:
            # A JSON null is as if the parameter were omitted, like an empty form value below.
            return {name: value for name, value in _json_object(request).items() if value is not None}
        except PayloadTooLargeError as exc:
            raise RequestTooLargeError(str(exc)) from None
        except BadRequestError as exc:
            raise InvalidRequestError(str(exc)) from None
    return form_params(request)


def form_params(request: Request) -> dict[str, str]:
    """A form-encoded body's parameters, each given once; a parameter without a value is left out.

    ``InvalidRequestError`` for a body that is not form-encoded UTF-8 or repeats a name,
    ``RequestTooLargeError`` over the size limit.
    """
    raw = request.raw_body or b""
    raw = raw.encode() if isinstance(raw, str) else raw
    if len(raw) > MAX_BODY_BYTES:
        raise RequestTooLargeError(f"The request body is over {MAX_BODY_BYTES} bytes.")
    try:
        pairs = urllib.parse.parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(raw), errors="strict"
        )
    except UnicodeDecodeError as exc:
        raise InvalidRequestError(f"The body is not valid UTF-8: byte {exc.start} cannot be decoded.") from None
    except ValueError:
        # Never the body itself: it may be a JSON body sent as a form (curl's default), password and all.
        raise InvalidRequestError(
            "The body is not form-encoded (name=value pairs joined by '&'); "
            "a JSON body needs Content-Type: application/json."
        ) from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise InvalidRequestError(f"The parameter {name[:40]!r} is given more than once.")
        params[name] = value
    # RFC 6749 section 3.2: a parameter sent without a value is as if it were omitted.
    return {name: value for name, value in params.items() if value != ""}


def _json_object(request: Request) -> dict[str, Any]:
    raw = request.raw_body or b""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLargeError(f"The request body is over {MAX_BODY_BYTES} bytes.")
    if not raw.strip():
        raise BadRequestError("The request body is empty; form parameters or a JSON object are expected.")
    return decode(raw, dict[str, Any])  # type: ignore[type-var,no-any-return]


def _convert(params: dict[str, Any], model: Any) -> Any:
    try:
        return msgspec.convert(params, type=model)
    except msgspec.ValidationError as exc:
        raise InvalidRequestError(f"Invalid request: {exc}") from None


def _client(request: Request, client_id: str | None, client_secret: str | None) -> ClientCredentials | None:
    basic = _basic_credentials(request)
    if basic is None:
        if client_id is None:
            if client_secret is not None:
                raise InvalidRequestError("A client_secret was given without its client_id.")
            return None
        return ClientCredentials(client_id, client_secret, basic=False)
    if client_secret is not None:
        raise InvalidRequestError("The client authenticated twice: with HTTP Basic and with client_secret.")
    if client_id is not None and client_id != basic.client_id:
        raise InvalidRequestError("The client_id parameter differs from the HTTP Basic user.")
    return basic


def _basic_credentials(request: Request) -> ClientCredentials | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        raise InvalidRequestError("Only HTTP Basic client authentication is accepted in the Authorization header.")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidRequestError("The HTTP Basic credentials are not valid base64 of UTF-8.") from None
    user, colon, password = decoded.partition(":")
    if not colon or not user:
        raise InvalidRequestError("The HTTP Basic credentials have no client id.")
    # RFC 6749 section 2.3.1: both are form-encoded before Basic encodes them.
    client_id, secret = urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(password)
    if len(client_id) > 64 or len(secret) > 1024:
        raise InvalidRequestError("The HTTP Basic credentials are too long.")
    # An empty password is a public client naming itself (what requests-oauthlib sends).
    return ClientCredentials(client_id, secret or None, basic=True)

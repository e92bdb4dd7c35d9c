"""The built-in Chalice authorizer all services share, and the caller it lets through."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any

import msgspec
from chalice import AuthResponse, Chalice, ForbiddenError
from chalice.app import AuthRequest, ChaliceAuthorizer, Request

from . import env, parameters
from .lazy import Lazy
from .text import clip
from .tokens import JWKS_PATH, InvalidTokenError, KeySet, KeysUnavailableError, TokenVerifier

logger = logging.getLogger(__name__)

JWKS_TIMEOUT_S = 2.0
# How old an authorizer's copy of the JWKS may grow before the next token fetches it again
# (jose's remote key sets default to the same ten minutes): a retired key stops verifying
# within this time of its retirement, with no redeploy.
JWKS_MAX_AGE_S = 600.0
ANONYMOUS = "anonymous"
# Reasons quote values from the token (its kid, its alg), each clipped already; the
# whole reason is clipped again so that no log line grows with what an attacker sends.
MAX_LOGGED_REASON = 300


def _fetch_jwks() -> Any:
    from .http import JsonHttpClient

    client = JsonHttpClient(connect_timeout=JWKS_TIMEOUT_S, read_timeout=JWKS_TIMEOUT_S, pool_size=1)
    response = client.request("GET", env.required("AUTH_URL").rstrip("/") + JWKS_PATH)
    if response.status != 200:
        raise RuntimeError(f"the JWKS answered {response.status}")
    return response.body


def handed_over_jwks() -> Any:
    """The auth service's public keys, if the deployment hands them over in ``JWKS`` (else None).

    With them a cold authorizer verifies its first token without a call to the auth
    service (or, for the auth service's own authorizer, without reading its key ring
    from SSM); see docs/performance.md.
    """
    document = env.optional("JWKS")
    if not document:
        return None
    try:
        return json.loads(document)
    except ValueError as exc:
        raise env.SettingsError("JWKS must be the auth service's JWKS document, in JSON") from exc


def _new_verifier() -> TokenVerifier:
    return TokenVerifier(
        KeySet(_fetch_jwks, initial=handed_over_jwks(), max_age_s=JWKS_MAX_AGE_S),
        issuer=parameters.token_issuer(),
        audience=env.required("TOKEN_AUDIENCE"),
    )


verifier = Lazy(_new_verifier)
"""The process's token verifier, with its cached JWKS."""

# The domain suffix of API Gateway's default endpoints in each partition (CloudFormation's
# AWS::URLSuffix, with which the issuer's stack writes its URL parameter).
URL_SUFFIXES = {"aws": "amazonaws.com", "aws-us-gov": "amazonaws.com", "aws-cn": "amazonaws.com.cn"}


def api_url(method_arn: str) -> str | None:
    """The default URL of the API stage a TOKEN authorizer's ``methodArn`` names (None if it names none).

    ``arn:<partition>:execute-api:<region>:<account>:<api-id>/<stage>/<method>/<path>`` is
    the API at ``https://<api-id>.execute-api.<region>.<suffix>/<stage>``.
    """
    arn, partition, service, region, _account, resource = (method_arn.split(":", 5) + [""] * 6)[:6]
    api_id, _, rest = resource.partition("/")
    stage = rest.partition("/")[0]
    suffix = URL_SUFFIXES.get(partition)
    if arn != "arn" or service != "execute-api" or suffix is None or not (region and api_id and stage):
        return None
    return f"https://{api_id}.execute-api.{region}.{suffix}/{stage}"


def shared_verifier(_api_url: str | None) -> TokenVerifier:
    """The verifier of every service but the issuer: one per process, whichever API a token came to."""
    return verifier()


def jwt_authorizer(app: Chalice, verify: Callable[[str | None], TokenVerifier] = shared_verifier) -> ChaliceAuthorizer:
    """Register the JWT authorizer on ``app`` and return it for ``authorizer=`` on routes.

    A valid token is allowed on every route of the API (so API Gateway's cached
    answer fits any route); the route itself checks ownership and scope. Anything
    else is denied: API Gateway answers 403 (401 when the header is missing). When
    the keys cannot be fetched, there is no answer to cache: a 500 the client may retry.
    ``verify`` is given the URL of the API the token was presented to (``api_url``).
    """

    # API Gateway caches each token's answer this long, even past the token's exp: a minute
    # of a 15-minute token, and a retired signing key stops working within that minute.
    @app.authorizer(ttl_seconds=60)
    def jwt_auth(auth_request: AuthRequest) -> AuthResponse | None:
        scheme, _, token = (auth_request.token or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return AuthResponse(routes=[], principal_id=ANONYMOUS)
        try:
            claims = verify(api_url(auth_request.method_arn)).verify(token.strip())
        except InvalidTokenError as exc:
            logger.info("token rejected: %s", clip(str(exc), MAX_LOGGED_REASON))
            return AuthResponse(routes=[], principal_id=ANONYMOUS)
        except KeysUnavailableError:
            # No policy at all: API Gateway answers 500 (its authorizer-failure answer,
            # `{"message": null}`, as chalice local does) and, unlike a Deny, never caches it.
            return None
        return AuthResponse(
            routes=["*"], principal_id=claims.subject, context={"scope": " ".join(sorted(claims.scopes))}
        )

    return jwt_auth


# The auth service's user ids: canonical, lower-case UUID strings. A pattern, not a compiled
# one: ``re`` compiles it on first use (and caches it), not during every cold start's import.
USER_ID_PATTERN = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def is_user_id(value: str) -> bool:
    """Whether ``value`` has the shape of a user id the auth service assigns."""
    return re.fullmatch(USER_ID_PATTERN, value) is not None


class NotAUserError(ForbiddenError):
    """403: a service client's token where only a user's will do."""


class Caller(msgspec.Struct, frozen=True):
    """Who is calling, as the authorizer verified it."""

    subject: str
    scopes: frozenset[str]

    @classmethod
    def from_request(cls, request: Request) -> Caller:
        """The caller of a route protected by ``jwt_authorizer``."""
        context = request.context.get("authorizer") or {}
        return cls(subject=context.get("principalId", ANONYMOUS), scopes=frozenset(context.get("scope", "").split()))

    @property
    def is_user(self) -> bool:
        """Whether the token is a user's (a service client's subject is ``client:<id>``)."""
        return is_user_id(self.subject)

    def require_user(self) -> None:
        """403 ``NotAUserError`` unless the token is a user's."""
        if not self.is_user:
            raise NotAUserError("This needs a user's token; this one belongs to a service client.")

    def require_owner(self, user_id: str, scope: str | None = None) -> None:
        """403 unless the caller is ``user_id`` (holding ``scope``, when given)."""
        if self.subject != user_id:
            raise ForbiddenError("You may only act on your own resources.")
        if scope is not None and scope not in self.scopes:
            raise ForbiddenError(f"This requires the scope {scope}.")

    def require_owner_or_scope(self, user_id: str, scope: str) -> None:
        """403 unless the caller is ``user_id`` or holds ``scope``."""
        if self.subject != user_id and scope not in self.scopes:
            raise ForbiddenError(f"Only the owner or a caller with the scope {scope} may do this.")

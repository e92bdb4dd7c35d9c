"""Issuing tokens for the three grants, rotating refresh tokens, and revoking them.

The policy lives here, once: what the store reports (attempts exhausted, a refresh token
used again, a login revoked) becomes the client's error, the lockout's 429, and the
revocation of a login whose refresh token was reused.
"""

from __future__ import annotations

import secrets
import uuid

from msgspec import UNSET

from servicekit import metrics
from servicekit.clock import clock

from . import passwords
from .errors import (
    InvalidClientError,
    InvalidCredentialsError,
    InvalidRefreshTokenError,
    LoginLockedError,
    UnauthorizedClientError,
)
from .keys import key_ring, new_token_id
from .models import ClientCredentialsGrant, Grant, PasswordGrant, RefreshGrant, TokenResponse
from .settings import ACCESS_TOKEN_TTL_S, REFRESH_TOKEN_TTL_S, USER_SCOPE, issuer, settings
from .store import (
    AttemptsExhaustedError,
    ClientItem,
    FamilyRevokedError,
    RefreshItem,
    RefreshTokenUsedError,
    auth_store,
)
from .token_requests import ClientCredentials

MAX_FAILED_LOGINS = 5
LOCKOUT_WINDOW_S = 15 * 60
CLIENT_SUBJECT_PREFIX = "client:"


def issue(grant: Grant, client: ClientCredentials | None) -> TokenResponse:
    """The token response for any grant (an ``OAuthError`` on bad credentials, 429 when locked out).

    On the user's grants (password, refresh token) a client is optional: a public client
    may name itself with ``client_id`` alone, and is let through without being looked up.
    A client that authenticates with a secret there is a service client, which may use
    only the client-credentials grant.
    """
    if isinstance(grant, ClientCredentialsGrant):
        return _client_credentials(client)
    if client is not None and client.secret is not None:
        authenticate_client(client)
        raise UnauthorizedClientError("Service clients log in with the client_credentials grant only.")
    if isinstance(grant, PasswordGrant):
        return _password(grant)
    return _refresh(grant)


def revoke(refresh_token: str, client: ClientCredentials | None) -> None:
    """Revoke the login the token belongs to; unknown tokens are ignored (RFC 7009).

    A client that sends a secret must get it right; refresh tokens are not bound to
    clients, so any client (or none) may revoke one it holds.
    """
    if client is not None and client.secret is not None:
        authenticate_client(client)
    try:
        item = _stored_refresh_token(refresh_token, clock().now())
    except InvalidRefreshTokenError:
        return
    auth_store().revoke_family(item["family_id"])


def access_token(subject: str, scope: str) -> str:
    """A signed access token for ``subject``, valid for 15 minutes."""
    now = clock().now()
    return key_ring().sign(
        {
            "iss": issuer(),
            "aud": settings().audience,
            "sub": subject,
            "scope": scope,
            "iat": now,
            "nbf": now,
            "exp": now + ACCESS_TOKEN_TTL_S,
            "jti": new_token_id(),
        }
    )


def _password(grant: PasswordGrant) -> TokenResponse:
    store, now = auth_store(), clock().now()
    _count_attempt(grant.username, now)
    user = store.user_by_name(grant.username)
    if not passwords.verify(user["password_hash"] if user else None, grant.password) or user is None:
        metrics.count(metrics.LOGINS_FAILED)
        raise InvalidCredentialsError("The username or password is wrong.")
    store.clear_failures(grant.username)
    if passwords.needs_rehash(user["password_hash"]):
        store.set_password_hash(user["user_id"], passwords.hash_password(grant.password))
    refresh = _new_refresh_token()
    store.start_family(uuid.uuid4().hex, user["user_id"], refresh, now + REFRESH_TOKEN_TTL_S)
    metrics.count(metrics.LOGINS_SUCCEEDED)
    return _response(user["user_id"], USER_SCOPE, refresh)


def _refresh(grant: RefreshGrant) -> TokenResponse:
    store, now = auth_store(), clock().now()
    item = _stored_refresh_token(grant.refresh_token, now)
    refresh = _new_refresh_token()
    try:
        store.rotate(grant.refresh_token, refresh, item, now)
    except RefreshTokenUsedError:
        # A used token presented again means it was stolen (or the client is broken), and
        # of concurrent uses only one wins: end the whole login, thief's and owner's alike.
        metrics.count(metrics.REFRESH_TOKEN_REUSE)
        store.revoke_family(item["family_id"])
        raise InvalidRefreshTokenError("The refresh token was used already; the login is revoked.") from None
    except FamilyRevokedError:
        raise InvalidRefreshTokenError("The refresh token has been revoked.") from None
    metrics.count(metrics.REFRESH_ROTATIONS)
    return _response(item["user_id"], USER_SCOPE, refresh)


def authenticate_client(client: ClientCredentials) -> ClientItem:
    """The client, if its secret is right; counted toward its lockout like a user's login."""
    store, now = auth_store(), clock().now()
    # ':' is in no username, so a client's count never mixes with a user's.
    _count_attempt(CLIENT_SUBJECT_PREFIX + client.client_id, now)
    item = store.client(client.client_id)
    if not passwords.verify(item["secret_hash"] if item else None, client.secret or "") or item is None:
        raise InvalidClientError("The client id or secret is wrong.", basic=client.basic)
    store.clear_failures(CLIENT_SUBJECT_PREFIX + client.client_id)
    return item


def _client_credentials(client: ClientCredentials | None) -> TokenResponse:
    if client is None or client.secret is None:
        raise InvalidClientError(
            "The client_credentials grant needs client authentication (HTTP Basic, or client_id and client_secret).",
            basic=client is not None and client.basic,
        )
    item = authenticate_client(client)
    metrics.count(metrics.CLIENT_CREDENTIALS_LOGINS)
    return _response(CLIENT_SUBJECT_PREFIX + item["client_id"], item["scope"], None)


def _count_attempt(subject: str, now: int) -> None:
    """Count a login of ``subject`` before its secret is checked; 429 once it is locked out."""
    try:
        auth_store().count_attempt(subject, now, MAX_FAILED_LOGINS, LOCKOUT_WINDOW_S)
    except AttemptsExhaustedError as exhausted:
        metrics.count(metrics.LOCKOUTS)
        raise LoginLockedError(exhausted.window_ends - now) from None


def _stored_refresh_token(token: str, now: int) -> RefreshItem:
    """The stored refresh token; ``InvalidRefreshTokenError`` if unknown or expired."""
    item = auth_store().refresh_token(token)
    if item is None:
        raise InvalidRefreshTokenError("The refresh token is not valid.")
    if item["expires_at"] <= now:
        raise InvalidRefreshTokenError("The refresh token has expired.")
    return item


def _response(subject: str, scope: str, refresh_token: str | None) -> TokenResponse:
    return TokenResponse(
        access_token=access_token(subject, scope),
        token_type="Bearer",  # noqa: S106 - the RFC 6749 token type, not a secret
        expires_in=ACCESS_TOKEN_TTL_S,
        scope=scope,
        refresh_token=UNSET if refresh_token is None else refresh_token,
    )


def _new_refresh_token() -> str:
    return secrets.token_urlsafe(32)

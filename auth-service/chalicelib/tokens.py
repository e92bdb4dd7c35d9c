"""Issuing tokens for the three grants, rotating refresh tokens, and revoking them."""

from __future__ import annotations

import secrets
import uuid

from servicekit import metrics
from servicekit.clock import clock

from . import passwords
from .errors import InvalidCredentialsError, InvalidRefreshTokenError
from .keys import key_ring, new_token_id
from .models import ClientCredentialsGrant, Grant, PasswordGrant, RefreshGrant, TokenResponse
from .settings import ACCESS_TOKEN_TTL_S, REFRESH_TOKEN_TTL_S, USER_SCOPE, settings
from .store import auth_store

MAX_FAILED_LOGINS = 5
LOCKOUT_WINDOW_S = 15 * 60
CLIENT_SUBJECT_PREFIX = "client:"


def issue(grant: Grant) -> TokenResponse:
    """The token response for any grant (401 on bad credentials, 429 when locked out)."""
    if isinstance(grant, PasswordGrant):
        return _password(grant)
    if isinstance(grant, RefreshGrant):
        return _refresh(grant)
    return _client_credentials(grant)


def revoke(refresh_token: str) -> None:
    """Revoke the login the token belongs to; unknown tokens are ignored (RFC 7009)."""
    store = auth_store()
    try:
        item = store.refresh_token(refresh_token, clock().now())
    except InvalidRefreshTokenError:
        return
    store.revoke_family(item["family_id"])


def access_token(subject: str, scope: str) -> str:
    """A signed access token for ``subject``, valid for 15 minutes."""
    now = clock().now()
    return key_ring().sign(
        {
            "iss": settings().issuer,
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
    store.count_attempt(grant.username, now, MAX_FAILED_LOGINS, LOCKOUT_WINDOW_S)
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
    item = store.refresh_token(grant.refresh_token, now)
    if item["used"]:
        # A used token presented again means it was stolen (or the client is broken):
        # end the whole login, thief's and owner's tokens alike.
        metrics.count(metrics.REFRESH_TOKEN_REUSE)
        store.revoke_family(item["family_id"])
        raise InvalidRefreshTokenError("The refresh token was used already; the login is revoked.")
    refresh = _new_refresh_token()
    store.rotate(grant.refresh_token, refresh, item, now)
    metrics.count(metrics.REFRESH_ROTATIONS)
    return _response(item["user_id"], USER_SCOPE, refresh)


def _client_credentials(grant: ClientCredentialsGrant) -> TokenResponse:
    client = auth_store().client(grant.client_id)
    if not passwords.verify(client["secret_hash"] if client else None, grant.client_secret) or client is None:
        raise InvalidCredentialsError("The client id or secret is wrong.")
    metrics.count(metrics.CLIENT_CREDENTIALS_LOGINS)
    return _response(CLIENT_SUBJECT_PREFIX + client["client_id"], client["scope"], None)


def _response(subject: str, scope: str, refresh_token: str | None) -> TokenResponse:
    return TokenResponse(
        access_token=access_token(subject, scope),
        token_type="Bearer",  # noqa: S106 - the RFC 6749 token type, not a secret
        expires_in=ACCESS_TOKEN_TTL_S,
        scope=scope,
        refresh_token=refresh_token,
    )


def _new_refresh_token() -> str:
    return secrets.token_urlsafe(32)

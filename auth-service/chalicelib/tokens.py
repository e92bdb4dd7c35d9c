"""Issuing tokens for the four grants, rotating refresh tokens, and revoking them.

The policy lives here, once: what the store reports (attempts exhausted, a refresh token
used again, a login revoked) becomes the client's error, the lockout's 429, and the
revocation of a login whose refresh token was reused.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from typing import NoReturn

import jwt
from msgspec import UNSET

from servicekit.clock import clock

from . import attempts, clients, codes, metrics, passwords
from .errors import (
    InvalidClientError,
    InvalidCredentialsError,
    InvalidRefreshTokenError,
    InvalidScopeError,
    LoginLockedError,
    RefreshTokenOfAnotherClientError,
    TooManyRequestsError,
    UnauthorizedClientError,
    UnsupportedTokenTypeError,
    WrongPasswordError,
)
from .keys import key_ring, new_token_id
from .models import AuthorizationCodeGrant, ClientCredentialsGrant, Grant, PasswordGrant, RefreshGrant, TokenResponse
from .settings import ACCESS_TOKEN_TTL_S, REFRESH_TOKEN_TTL_S, USER_SCOPE, issuer, settings
from .store import (
    ClientItem,
    FamilyRevokedError,
    RefreshItem,
    RefreshTokenChangedError,
    RefreshTokenUsedError,
    Subject,
    SuccessorUsedError,
    UserGoneError,
    UserItem,
    auth_store,
)
from .token_requests import ClientCredentials, given

CLIENT_SUBJECT_PREFIX = "client:"
# RFC 9068's client_id claim of a login that named no client. A registered client's id is
# made of a-z, 0-9 and '-' only (clients.CLIENT_ID_PATTERN), so this one is never a client's.
PUBLIC_CLIENT_ID = "public_client"
# A refresh token presented again within this many seconds of its rotation, while its
# successor is unused, is the client retrying a request whose answer it lost (Auth0's
# "reuse interval" and Okta's "grace period" are of this order).
RETRY_WINDOW_S = 30
# Each try that finds the token changed lost to another use of it that succeeded: n concurrent
# uses need up to n tries. Past this, a client is hammering one token, and its login ends.
ROTATION_TRIES = 8


def issue(grant: Grant, client: ClientCredentials | None, address: str) -> TokenResponse:
    """The token response for any grant (an ``OAuthError`` on bad credentials, 429 when locked out).

    On the password and refresh grants a client is optional: a public client may name
    itself with ``client_id`` alone, and is let through without being looked up. The
    authorization code grant needs the public client the code was issued to, named. A
    client that authenticates with a secret on a user's grant is a service client, which
    may use only the client-credentials grant.
    """
    if isinstance(grant, ClientCredentialsGrant):
        return _client_credentials(grant, client, address)
    if client is not None and client.secret is not None:
        authenticate_client(client, address)
        raise UnauthorizedClientError("Service clients log in with the client_credentials grant only.")
    named = client.client_id if client is not None else None
    if isinstance(grant, AuthorizationCodeGrant):
        return _authorization_code(grant, named)
    if isinstance(grant, PasswordGrant):
        return _password(grant, named, address)
    return _refresh(grant, named)


def revoke(token: str, hint: str | None, client: ClientCredentials | None, address: str) -> None:
    """Revoke the login a refresh token belongs to; unknown tokens are ignored (RFC 7009).

    Access tokens cannot be revoked (``unsupported_token_type``): they are self-contained
    JWTs that expire within 15 minutes. A refresh token is revoked only by the client it
    was issued to (RFC 7009 section 2.1): a confidential client authenticates, a public
    one names itself; one issued to no client, by anyone who is not a confidential client.
    """
    confidential = client is not None and client.secret is not None
    if client is not None and confidential:
        authenticate_client(client, address)
    if hint == "access_token" or _is_jwt(token):
        raise UnsupportedTokenTypeError("Access tokens cannot be revoked: they expire within 15 minutes.")
    try:
        item = _stored_refresh_token(token, clock().now())
    except InvalidRefreshTokenError:
        return
    issued_to = item.get("client_id")
    presented = client.client_id if client is not None else None
    if issued_to != presented and (issued_to is not None or confidential):
        raise RefreshTokenOfAnotherClientError("The token was not issued to this client; it is not revoked.")
    auth_store().revoke_family(item["family_id"])


def granted_scope(requested: str | None, allowed: str) -> str:
    """What a grant gives: ``requested`` if every scope of it is ``allowed`` (all of ``allowed`` if None)."""
    if requested is None:
        return allowed
    may = allowed.split()
    asked = requested.split()
    refused = [scope for scope in asked if scope not in may]
    if refused:
        raise InvalidScopeError(
            f"The scope {' '.join(refused)[:100]!r} is not one this caller may have (it may have: {allowed})."
        )
    return " ".join(scope for scope in may if scope in asked)  # in a stable order, each once


def _is_jwt(token: str) -> bool:
    """Whether ``token`` is shaped as a signed JWT (our access tokens are; refresh tokens never are)."""
    try:
        return "alg" in jwt.get_unverified_header(token)
    except (jwt.PyJWTError, UnicodeError, ValueError):
        return False


def access_token(subject: str, scope: str, client_id: str | None) -> str:
    """A signed access token (RFC 9068) for ``subject``, got by ``client_id``, valid for 15 minutes."""
    now = clock().now()
    return key_ring().sign(
        {
            "iss": issuer(),
            "aud": settings().audience,
            "sub": subject,
            "client_id": client_id or PUBLIC_CLIENT_ID,
            "scope": scope,
            "iat": now,
            "nbf": now,
            "exp": now + ACCESS_TOKEN_TTL_S,
            "jti": new_token_id(),
        }
    )


def check_password(username: str, password: str, address: str, find_user: Callable[[], UserItem | None]) -> UserItem:
    """The user ``find_user`` gives, if ``password`` is theirs: the one check of a user's password, counted.

    The attempt is counted first (``TooManyRequestsError`` when ``username`` may not try
    from ``address`` now, counted as a lockout), then the user is found and the password
    verified (``WrongPasswordError`` for a wrong one or no user, counted as a failed login).
    Each caller words the two failures in its own answers: the token endpoint and the
    login page as OAuth's, the erasure as its 403 and 429.
    """
    try:
        attempt = attempts.attempt(attempts.user(username), address)
    except TooManyRequestsError:
        metrics.count(metrics.LOCKOUTS)
        raise
    user = find_user()
    if not passwords.verify(user["password_hash"] if user else None, password) or user is None:
        metrics.count(metrics.LOGINS_FAILED)
        raise WrongPasswordError("The password is wrong.")
    attempt.succeeded()
    return user


def authenticate_user(username: str, password: str, address: str) -> UserItem:
    """The user, if the password is right: counted like every login, wherever it is typed.

    ``InvalidCredentialsError`` for a wrong password or an unknown user (the same), 429
    ``LoginLockedError`` when the username may not log in from ``address`` now.
    """
    store = auth_store()
    try:
        user = check_password(username, password, address, lambda: store.user_by_name(username))
    except TooManyRequestsError as refused:
        raise LoginLockedError(refused) from None
    except WrongPasswordError:
        raise InvalidCredentialsError("The username or password is wrong.") from None
    if passwords.needs_rehash(user["password_hash"], password):
        store.set_password_hash(user["user_id"], passwords.hash_password(password))
    metrics.count(metrics.LOGINS_SUCCEEDED)
    return user


def _password(grant: PasswordGrant, client_id: str | None, address: str) -> TokenResponse:
    scope = granted_scope(given(grant.scope), USER_SCOPE)
    user = authenticate_user(grant.username, grant.password, address)
    refresh = _new_refresh_token()
    try:
        auth_store().start_family(
            uuid.uuid4().hex,
            user["user_id"],
            refresh,
            clock().now() + REFRESH_TOKEN_TTL_S,
            scope=scope,
            client_id=client_id,
        )
    except UserGoneError:
        raise InvalidCredentialsError("The username or password is wrong.") from None
    return _response(user["user_id"], scope, client_id, refresh)


def _authorization_code(grant: AuthorizationCodeGrant, client_id: str | None) -> TokenResponse:
    """Exchange a code (RFC 6749 section 4.1.3) for the login its user made; once, as ``codes`` checks it."""
    if client_id is None:
        raise InvalidClientError(
            "The authorization_code grant needs the client's client_id (RFC 6749 section 4.1.3).", basic=False
        )
    refresh = _new_refresh_token()
    item = codes.redeem(grant, client_id, refresh, clock().now() + REFRESH_TOKEN_TTL_S)
    return _response(item["user_id"], item["scope"], client_id, refresh)


def _refresh(grant: RefreshGrant, client_id: str | None) -> TokenResponse:
    """Rotate the refresh token; a retry within the window rotates it again; any other reuse is theft.

    Only the client the login named (or no client, if it named none) may refresh, and it
    may ask for at most the login's scope; otherwise nothing is rotated.
    """
    store, now = auth_store(), clock().now()
    for _ in range(ROTATION_TRIES):
        item = _stored_refresh_token(grant.refresh_token, now)
        if item.get("client_id") != client_id:
            raise RefreshTokenOfAnotherClientError("The refresh token was issued to another client.")
        scope = granted_scope(given(grant.scope), item.get("scope", USER_SCOPE))
        refresh = _new_refresh_token()
        try:
            if not item["used"]:
                store.rotate(grant.refresh_token, refresh, item, now)
            elif item.get("used_at", 0) > now - RETRY_WINDOW_S:
                # Its answer was lost (or two uses raced): the client never got the successor,
                # which stops working now; the client gets the pair it asks for again.
                store.rotate_again(grant.refresh_token, refresh, item, now - RETRY_WINDOW_S + 1)
            else:
                raise RefreshTokenUsedError()
        except RefreshTokenChangedError:
            continue  # a concurrent use changed it: look again
        except (RefreshTokenUsedError, SuccessorUsedError):
            _revoke_stolen(item)
        except FamilyRevokedError:
            raise InvalidRefreshTokenError("The refresh token has been revoked.") from None
        metrics.count(metrics.REFRESH_ROTATIONS)
        return _response(item["user_id"], scope, client_id, refresh)
    # Still changing under this request after every try: a client hammering one token.
    _revoke_stolen(item)


def _revoke_stolen(item: RefreshItem) -> NoReturn:
    """A used token presented again after its window, or after its successor was used: it was stolen
    (or the client is broken). End the whole login, thief's and owner's alike."""
    metrics.count(metrics.REFRESH_TOKEN_REUSE)
    auth_store().revoke_family(item["family_id"])
    raise InvalidRefreshTokenError("The refresh token was used already; the login is revoked.")


def authenticate_client(client: ClientCredentials, address: str) -> ClientItem:
    """The client, if its secret is right; counted like a user's login, in the clients' own counters."""
    attempt = _attempt(attempts.client(client.client_id), address)
    item = auth_store().client(client.client_id)
    secret = client.secret or ""
    if not clients.check_secret(item.get("secret_hash") if item else None, secret) or item is None:
        raise InvalidClientError("The client id or secret is wrong.", basic=client.basic)
    attempt.succeeded()
    if clients.needs_rehash(item["secret_hash"]):
        auth_store().replace_client_secret_hash(item, clients.hash_secret(secret))
    return item


def _client_credentials(grant: ClientCredentialsGrant, client: ClientCredentials | None, address: str) -> TokenResponse:
    if client is None or client.secret is None:
        raise InvalidClientError(
            "The client_credentials grant needs client authentication (HTTP Basic, or client_id and client_secret).",
            basic=client is not None and client.basic,
        )
    item = authenticate_client(client, address)
    scope = granted_scope(given(grant.scope), item["scope"])
    metrics.count(metrics.CLIENT_CREDENTIALS_LOGINS)
    return _response(CLIENT_SUBJECT_PREFIX + item["client_id"], scope, item["client_id"], None)


def _attempt(subject: Subject, address: str) -> attempts.Attempt:
    """Count a login before its secret is checked; 429 (``login_locked``) when it may not come now."""
    try:
        return attempts.attempt(subject, address)
    except TooManyRequestsError as refused:
        metrics.count(metrics.LOCKOUTS)
        raise LoginLockedError(refused) from None


def _stored_refresh_token(token: str, now: int) -> RefreshItem:
    """The stored refresh token; ``InvalidRefreshTokenError`` if unknown or expired."""
    item = auth_store().refresh_token(token)
    if item is None:
        raise InvalidRefreshTokenError("The refresh token is not valid.")
    if item["expires_at"] <= now:
        raise InvalidRefreshTokenError("The refresh token has expired.")
    return item


def _response(subject: str, scope: str, client_id: str | None, refresh_token: str | None) -> TokenResponse:
    return TokenResponse(
        access_token=access_token(subject, scope, client_id),
        token_type="Bearer",  # noqa: S106 - the RFC 6749 token type, not a secret
        expires_in=ACCESS_TOKEN_TTL_S,
        scope=scope,
        refresh_token=UNSET if refresh_token is None else refresh_token,
    )


def _new_refresh_token() -> str:
    return secrets.token_urlsafe(32)

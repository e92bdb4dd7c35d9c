"""The auth service's errors.

Outside the token endpoints, each class name is the ``Code`` clients see (Chalice's
``{"Code", "Message"}``). ``POST /token`` and ``POST /token/revoke`` answer with RFC 6749
section 5.2's ``{"error", "error_description"}`` instead: those errors are ``OAuthError``
subclasses, which ``app.py`` renders with their ``body`` and ``headers``.
"""

from __future__ import annotations

import math
from typing import ClassVar

from chalice import ConflictError, ForbiddenError, NotFoundError

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class UsernameTakenError(ConflictError):
    """409: the username is registered already."""


class UserNotFoundError(NotFoundError):
    """404: the token's user does not exist (any more)."""


class WrongPasswordError(ForbiddenError):
    """403: the password confirming an erasure is wrong (counted as a failed login)."""


class TooManyRequestsError(Exception):
    """429: too much expensive work from one address, or too many failed logins; wait ``retry_after`` seconds.

    Chalice renders its own errors without headers, so ``app.py`` renders this one with
    ``body`` and ``headers`` (``Retry-After``); the token endpoints answer ``LoginLockedError``.
    """

    STATUS_CODE = 429

    def __init__(self, reason: str, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"{reason}; try again in {self.retry_after} seconds.")

    def body(self) -> dict[str, str]:
        """The contract's error body."""
        return {"Code": type(self).__name__, "Message": str(self)}

    def headers(self) -> dict[str, str]:
        """When to try again."""
        return {"Retry-After": str(self.retry_after)}


class OAuthError(Exception):
    """An error of the token endpoints: RFC 6749 section 5.2's body, never cached."""

    ERROR: ClassVar[str] = "invalid_request"
    STATUS_CODE: ClassVar[int] = 400

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description

    def body(self) -> dict[str, str]:
        """The body RFC 6749 section 5.2 gives an error."""
        return {"error": self.ERROR, "error_description": self.description}

    def headers(self) -> dict[str, str]:
        """Headers beyond ``Content-Type`` and ``Cache-Control``."""
        return {}


class InvalidRequestError(OAuthError):
    """400 ``invalid_request``: a malformed, missing, repeated or unknown parameter."""


class RequestTooLargeError(InvalidRequestError):
    """413 ``invalid_request``: the body is over the limit."""

    STATUS_CODE = 413


class InvalidClientError(OAuthError):
    """401 ``invalid_client``: client authentication failed (unknown client, wrong or no secret)."""

    ERROR = "invalid_client"
    STATUS_CODE = 401

    def __init__(self, description: str, *, basic: bool) -> None:
        super().__init__(description)
        self.basic = basic

    def headers(self) -> dict[str, str]:
        # RFC 6749 section 5.2: a failed HTTP Basic authentication is answered with a challenge.
        return {"WWW-Authenticate": 'Basic realm="token"'} if self.basic else {}


class InvalidGrantError(OAuthError):
    """400 ``invalid_grant``: wrong username or password, or a bad refresh token."""

    ERROR = "invalid_grant"


class InvalidCredentialsError(InvalidGrantError):
    """Wrong username or password, or unknown user (deliberately indistinguishable)."""


class InvalidRefreshTokenError(InvalidGrantError):
    """The refresh token is unknown, expired, used already, or revoked."""


class InvalidCodeError(InvalidGrantError):
    """The authorization code is unknown, expired, used already, or not for this client, redirect URI or verifier."""


class RefreshTokenOfAnotherClientError(InvalidGrantError):
    """The refresh token was issued to another client, or to a client when none is presented (or none when one is)."""


class InvalidScopeError(OAuthError):
    """400 ``invalid_scope``: a scope the caller may not have, or an unknown one (RFC 6749 section 5.2)."""

    ERROR = "invalid_scope"


class UnsupportedTokenTypeError(OAuthError):
    """400 ``unsupported_token_type``: an access token cannot be revoked (RFC 7009 section 2.2.1)."""

    ERROR = "unsupported_token_type"


class UnsupportedGrantTypeError(OAuthError):
    """400 ``unsupported_grant_type``."""

    ERROR = "unsupported_grant_type"


class UnsupportedResponseTypeError(OAuthError):
    """``unsupported_response_type``: ``GET /authorize`` gives codes only (RFC 6749 section 4.1.2.1)."""

    ERROR = "unsupported_response_type"


class UnauthorizedClientError(OAuthError):
    """400 ``unauthorized_client``: this client may not use this grant."""

    ERROR = "unauthorized_client"


class LoginLockedError(OAuthError):
    """429 ``login_locked``: too many failed logins, or logins from the address; retry after ``retry_after`` s."""

    ERROR = "login_locked"
    STATUS_CODE = 429

    def __init__(self, refused: TooManyRequestsError) -> None:
        self.retry_after = refused.retry_after
        super().__init__(str(refused))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}

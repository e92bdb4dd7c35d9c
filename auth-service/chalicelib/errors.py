"""The auth service's errors; each class name is the ``Code`` clients see."""

from __future__ import annotations

import json
import math

from chalice import ConflictError, NotFoundError, Response, TooManyRequestsError, UnauthorizedError


class UsernameTakenError(ConflictError):
    """409: the username is registered already."""


class InvalidCredentialsError(UnauthorizedError):
    """401: wrong username or password, or unknown client (deliberately indistinguishable)."""


class InvalidRefreshTokenError(UnauthorizedError):
    """401: the refresh token is unknown, expired, used already, or revoked."""


class UserNotFoundError(NotFoundError):
    """404: the token's user does not exist (any more)."""


class LoginLockedError(TooManyRequestsError):
    """429: too many failed logins for this username; try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after))
        super().__init__(f"Too many failed logins; try again in {self.retry_after} seconds.")

    def to_response(self) -> Response:
        """The 429 with its ``Retry-After`` header (Chalice's error rendering has no headers)."""
        return Response(
            body=json.dumps({"Code": type(self).__name__, "Message": str(self)}),
            status_code=self.STATUS_CODE,
            headers={"Content-Type": "application/json", "Retry-After": str(self.retry_after)},
        )

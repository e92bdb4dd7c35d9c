"""The profile service's errors; each class name is the ``Code`` clients see."""

from __future__ import annotations

from chalice import BadRequestError, NotFoundError

from servicekit.errors import PreconditionFailedError


class ProfileNotFoundError(NotFoundError):
    """404: the user has no profile."""


class VersionMismatchError(PreconditionFailedError):
    """412: ``If-Match`` names no version the profile has (or there is no profile); nothing was written."""


class InvalidIfMatchError(BadRequestError):
    """400: the ``If-Match`` header is not a valid list of entity tags."""

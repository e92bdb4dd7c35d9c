"""The location service's errors; each class name is the ``Code`` clients see."""

from __future__ import annotations

from chalice import ForbiddenError, NotFoundError


class LocationNotFoundError(NotFoundError):
    """404: the user has no location stored."""


class NotAUserError(ForbiddenError):
    """403: a service client's token tried to own a location; locations belong to users."""

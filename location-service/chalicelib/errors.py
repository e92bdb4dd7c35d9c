"""The location service's errors; each class name is the ``Code`` clients see."""

from __future__ import annotations

from chalice import NotFoundError


class LocationNotFoundError(NotFoundError):
    """404: the user has no location stored."""

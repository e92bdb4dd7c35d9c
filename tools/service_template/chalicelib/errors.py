"""The scaffold service's errors; each class name is the ``Code`` clients see."""

from __future__ import annotations

from chalice import NotFoundError


class NoteNotFoundError(NotFoundError):
    """404: the user has no note."""

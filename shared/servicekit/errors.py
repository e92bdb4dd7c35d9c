"""HTTP errors the services raise beyond Chalice's own, and the shared data errors.

Chalice renders any ``ChaliceViewError`` as ``{"Code": <class name>, "Message": ...}``
with the class's ``STATUS_CODE``: the contract's error shape. Services name their
domain errors ``<Thing><Condition>Error`` as subclasses of these, in their own
``chalicelib/errors.py``, so the class name is the ``Code`` clients see.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chalice import ChaliceViewError, ForbiddenError


class PreconditionFailedError(ChaliceViewError):
    """412: an ``If-Match`` precondition did not hold."""

    STATUS_CODE = 412


class PayloadTooLargeError(ChaliceViewError):
    """413: the request body is over the limit."""

    STATUS_CODE = 413


class ServiceUnavailableError(ChaliceViewError):
    """503: a dependency of the service is down; the client may retry."""

    STATUS_CODE = 503


class StoreUnavailableError(ServiceUnavailableError):
    """The database did not answer, or refused after retries. Rendered as 503."""


class UserErasedError(ForbiddenError):
    """403: the user's account was erased; nothing of theirs is written again (``Table.erase``)."""


class StoreError(Exception):
    """DynamoDB refused a request no retry can fix (a bug, a missing permission): a 500."""


class ItemNotFoundError(Exception):
    """No item has the key (one past its TTL may still be found). Services translate it to their 404."""


class ConditionFailedError(Exception):
    """A conditional write's condition did not hold; nothing was written.

    From a transaction, ``failed`` holds the positions (in the list given to
    ``Table.transact``) of the operations whose condition failed. From a single write,
    ``item`` is what was stored when the condition failed (DynamoDB's
    ``ReturnValuesOnConditionCheckFailure``), or None when there was no item.
    """

    def __init__(self, message: str, failed: Sequence[int] = (), item: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.failed = tuple(failed)
        self.item = dict(item) if item is not None else None

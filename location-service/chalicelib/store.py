"""The location table: one item per user, keyed by ``user_id``.

| attribute | type | note |
| --- | --- | --- |
| user_id | S | the key: the auth service's user id |
| latitude, longitude | N | |
| city, country | S or NULL | NULL when not given |
| updated_at | S | ISO 8601, UTC |
| version | N | added to atomically by every write |
| write_id | S | the id of the write that stored this version (a retried write is recognised by it) |

A user whose account was erased has a tombstone instead (``erased_at``, ``erasure_id``,
``expires_at``: ``servicekit.dynamo.Table.erase``): no location, and no write brings one back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from servicekit.dynamo import Table, dynamodb
from servicekit.errors import ItemNotFoundError
from servicekit.lazy import Lazy

from .settings import settings


class LocationItem(TypedDict):
    user_id: str
    latitude: float
    longitude: float
    city: str | None
    country: str | None
    updated_at: str
    version: int


class LocationStore:
    """Reads and writes of the location table: it reports what it found, ``locations`` decides what that means."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, user_id: str) -> LocationItem | None:
        """The stored location (a strongly consistent read), or None."""
        try:
            return self._table.get({"user_id": user_id})  # type: ignore[return-value]
        except ItemNotFoundError:
            return None

    def write(self, user_id: str, fields: Mapping[str, Any]) -> LocationItem:
        """Set ``fields`` and add one to ``version``, in one atomic write; the new item.

        No read first and no version condition: of two concurrent writes, both land
        (the last one's fields win) and each counts in ``version``.
        """
        return self._table.update({"user_id": user_id}, fields)  # type: ignore[return-value]

    def delete(self, user_id: str) -> bool:
        """Delete the location; False if there was none."""
        try:
            self._table.delete({"user_id": user_id}, must_exist=True)
        except ItemNotFoundError:
            return False
        return True

    def erase(self, user_id: str, erasure_id: str, now: float) -> bool:
        """Replace whatever the user has with a tombstone; False if it was erased already."""
        return self._table.erase({"user_id": user_id}, erasure_id, now)


location_store = Lazy(lambda: LocationStore(Table(dynamodb(), settings().table_name)))
"""The process's store."""

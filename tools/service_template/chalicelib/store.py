"""The scaffold table: one item per user, keyed by ``user_id``.

| attribute | type | note |
| --- | --- | --- |
| user_id | S | the key: the auth service's user id |
| text | S | |
| updated_at | S | ISO 8601, UTC |
| version | N | added to atomically by every write |

A user whose account was erased has a tombstone instead (``servicekit.dynamo.Table.erase``):
no note, and no write of their still-valid token brings one back (403).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict

from servicekit.dynamo import Table, dynamodb
from servicekit.errors import ItemNotFoundError
from servicekit.lazy import Lazy

from .settings import settings


class NoteItem(TypedDict):
    user_id: str
    text: str
    updated_at: str
    version: int


class NoteStore:
    """Reads and writes of the scaffold table: it reports what it found, ``notes`` decides what that means."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, user_id: str) -> NoteItem | None:
        """The stored note (a strongly consistent read), or None."""
        try:
            return self._table.get({"user_id": user_id})  # type: ignore[return-value]
        except ItemNotFoundError:
            return None

    def write(self, user_id: str, fields: Mapping[str, Any]) -> NoteItem:
        """Set ``fields`` and add one to ``version``, in one atomic write; the new item."""
        return self._table.update({"user_id": user_id}, fields)  # type: ignore[return-value]

    def erase(self, user_id: str, erasure_id: str, now: float) -> bool:
        """Replace whatever the user has with a tombstone; False if it was erased already."""
        return self._table.erase({"user_id": user_id}, erasure_id, now)


note_store = Lazy(lambda: NoteStore(Table(dynamodb(), settings().table_name)))
"""The process's store."""

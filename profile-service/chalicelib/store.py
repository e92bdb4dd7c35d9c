"""The profile service's table: one item per user, keyed by ``user_id``, with a ``version``.

Every write is one ``UpdateItem`` that adds 1 to ``version`` (DynamoDB applies it
atomically, so concurrent writers never lose an increment); with an ``If-Match``
precondition the same write carries the condition, so a mismatch writes nothing.
There is never a read before a write. A user whose account was erased has a tombstone
instead (``servicekit.dynamo.Table.erase``): no profile, and no write brings one back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypedDict, cast

from servicekit.dynamo import Table, dynamodb
from servicekit.errors import ConditionFailedError, ItemNotFoundError
from servicekit.lazy import Lazy

from .etags import IfMatch
from .settings import settings

KEY = "user_id"


class ProfileItem(TypedDict):
    user_id: str
    display_name: str
    bio: str | None
    updated_at: str
    version: int


class VersionNotMatchedError(Exception):
    """The profile is not at a version the precondition names (or there is none); nothing was written."""


class ProfileStore:
    """Reads and (conditional) writes of the profile table: it reports what it found, ``profiles`` decides."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def get(self, user_id: str) -> ProfileItem | None:
        """The profile, or None."""
        try:
            return cast(ProfileItem, self._table.get({KEY: user_id}))
        except ItemNotFoundError:
            return None

    def write(self, user_id: str, fields: Mapping[str, Any], precondition: IfMatch | None) -> ProfileItem:
        """Set ``fields`` and add one to the version, if ``precondition`` holds (``VersionNotMatchedError`` if not)."""
        key = {KEY: user_id}
        try:
            if precondition is None:
                item = self._table.update(key, fields)
            elif precondition.any_version:
                item = self._table.update(key, fields, must_exist=True)
            else:
                item = self._table.update(key, fields, expected_versions=precondition.versions)
        except ConditionFailedError:
            raise VersionNotMatchedError(user_id) from None
        return cast(ProfileItem, item)

    def delete(self, user_id: str) -> bool:
        """Delete the profile; False if there was none."""
        try:
            self._table.delete({KEY: user_id}, must_exist=True)
        except ItemNotFoundError:
            return False
        return True

    def erase(self, user_id: str, erasure_id: str, now: float) -> bool:
        """Replace whatever the user has with a tombstone; False if it was erased already."""
        return self._table.erase({KEY: user_id}, erasure_id, now)


profile_store = Lazy(lambda: ProfileStore(Table(dynamodb(), settings().table_name)))
"""The process's store."""

"""The auth service's table: users, usernames, refresh-token families, lockouts, clients.

One table, one string key ``pk`` prefixed by kind:

| item | pk | main attributes |
| --- | --- | --- |
| user | ``user#<user_id>`` | username, password_hash, created_at |
| username claim | ``username#<username>`` | user_id (uniqueness: written in the same transaction) |
| refresh token | ``refresh#<sha256 of the token>`` | family_id, user_id, used, expires_at |
| token family (one login) | ``family#<family_id>`` | user_id, revoked, expires_at |
| failed logins | ``lockout#<username>`` | failures, window_ends, expires_at |
| service client | ``client#<client_id>`` | secret_hash, scope, created_at |

``expires_at`` is the TTL attribute, but DynamoDB deletes expired items only
eventually (moto never): every condition checks it itself, and so does every reader.

The store reports what happened (a username taken, the attempts exhausted, a refresh
token used already, a login revoked) as the exceptions below; ``tokens.py`` and
``users.py`` decide what that means for the client.
"""

from __future__ import annotations

import hashlib
from typing import TypedDict

from servicekit.dynamo import Condition, Table, dynamodb
from servicekit.errors import ConditionFailedError, ItemNotFoundError
from servicekit.lazy import Lazy

from .settings import settings

NOT_EXISTS = Condition("attribute_not_exists(pk)")


class UsernameClaimedError(Exception):
    """The username belongs to a user already; nothing was written."""


class AttemptsExhaustedError(Exception):
    """The subject's failed attempts reached the limit; the window closes at ``window_ends``."""

    def __init__(self, window_ends: int) -> None:
        super().__init__(window_ends)
        self.window_ends = window_ends


class RefreshTokenUsedError(Exception):
    """The refresh token was used already (or expired in the meantime); nothing was written."""


class FamilyRevokedError(Exception):
    """The refresh token's login was revoked (or has expired and gone); nothing was written."""


class UserItem(TypedDict):
    pk: str
    user_id: str
    username: str
    password_hash: str
    created_at: str


class RefreshItem(TypedDict):
    pk: str
    family_id: str
    user_id: str
    used: bool
    expires_at: int


class ClientItem(TypedDict):
    pk: str
    client_id: str
    secret_hash: str
    scope: str
    created_at: str


def refresh_key(token: str) -> dict[str, str]:
    """Refresh tokens are stored by hash: a leaked table does not leak usable tokens."""
    return {"pk": "refresh#" + hashlib.sha256(token.encode()).hexdigest()}


class AuthStore:
    """Reads and conditional writes of the auth table."""

    def __init__(self, table: Table) -> None:
        self._table = table

    # Users

    def add_user(self, user: UserItem) -> None:
        """Write the user and claim the username in one transaction; ``UsernameClaimedError`` if it is taken."""
        try:
            self._table.transact(
                [
                    self._table.put_op({"pk": f"username#{user['username']}", "user_id": user["user_id"]}, NOT_EXISTS),
                    self._table.put_op(dict(user), NOT_EXISTS),
                ]
            )
        except ConditionFailedError:
            raise UsernameClaimedError(user["username"]) from None

    def user(self, user_id: str) -> UserItem:
        """The user (``ItemNotFoundError`` if none)."""
        return self._table.get({"pk": f"user#{user_id}"})  # type: ignore[return-value]

    def user_by_name(self, username: str) -> UserItem | None:
        """The user holding ``username``, or None."""
        try:
            claim = self._table.get({"pk": f"username#{username}"})
            return self.user(claim["user_id"])
        except ItemNotFoundError:
            return None

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Replace the hash (after a parameter upgrade)."""
        self._table.put({**self.user(user_id), "password_hash": password_hash})

    # Failed logins

    def failures(self, username: str, now: int) -> tuple[int, int]:
        """Logins counted in the current window and when it ends (0, 0 when none)."""
        try:
            item = self._table.get({"pk": f"lockout#{username}"})
        except ItemNotFoundError:
            return 0, 0
        if item["window_ends"] <= now:
            return 0, 0
        return item["failures"], item["window_ends"]

    def count_attempt(self, username: str, now: int, limit: int, window_s: int) -> None:
        """Count a login as failed before its password is checked; ``AttemptsExhaustedError`` at ``limit``.

        Counting first, in one conditional write, is what holds the limit under
        concurrency: checks against a count read earlier would let a burst of guesses
        all through. A login that then succeeds clears the count (``clear_failures``).
        """
        key = {"pk": f"lockout#{username}"}
        try:
            self._table.update_with(
                key,
                Condition(
                    "SET failures = :one, window_ends = :ends, expires_at = :ends",
                    values={":one": 1, ":ends": now + window_s},
                ),
                Condition("attribute_not_exists(pk) OR window_ends <= :now", values={":now": now}),
            )
            return
        except ConditionFailedError:
            pass  # a window is open: count in it
        try:
            self._table.update_with(
                key,
                Condition("ADD failures :one", values={":one": 1}),
                Condition("window_ends > :now AND failures < :limit", values={":now": now, ":limit": limit}),
            )
            return
        except ConditionFailedError:
            pass
        failures, window_ends = self.failures(username, now)
        if failures >= limit:
            raise AttemptsExhaustedError(window_ends)
        # The window closed, or a successful login cleared it, between the writes: start again.
        self.count_attempt(username, now, limit, window_s)

    def clear_failures(self, username: str) -> None:
        """A successful login closes the window (and takes back its own count)."""
        self._table.delete({"pk": f"lockout#{username}"})

    # Refresh-token families

    def start_family(self, family_id: str, user_id: str, token: str, expires_at: int) -> None:
        """A login: a new family with its first refresh token."""
        self._table.transact(
            [
                self._table.put_op(
                    {"pk": f"family#{family_id}", "user_id": user_id, "revoked": False, "expires_at": expires_at},
                    NOT_EXISTS,
                ),
                self._table.put_op(self._refresh_item(token, family_id, user_id, expires_at), NOT_EXISTS),
            ]
        )

    def refresh_token(self, token: str) -> RefreshItem | None:
        """The stored refresh token, expired or not; None if unknown."""
        try:
            return self._table.get(refresh_key(token))  # type: ignore[return-value]
        except ItemNotFoundError:
            return None

    def rotate(self, old: str, new: str, item: RefreshItem, now: int) -> None:
        """Mark ``old`` (read as ``item``) used and store ``new`` in its family.

        ``RefreshTokenUsedError`` if ``old`` was used already, as read or by a concurrent
        rotation (one transaction: of concurrent uses of the same token exactly one wins);
        else ``FamilyRevokedError`` if its login was revoked.
        """
        if item["used"]:
            raise RefreshTokenUsedError()
        use_old = self._table.update_op(
            refresh_key(old),
            Condition("SET used = :true", values={":true": True}),
            Condition("used = :false AND expires_at > :now", values={":false": False, ":now": now}),
        )
        family_alive = self._table.check_op(
            {"pk": f"family#{item['family_id']}"}, Condition("revoked = :false", values={":false": False})
        )
        store_new = self._table.put_op(
            self._refresh_item(new, item["family_id"], item["user_id"], item["expires_at"]), NOT_EXISTS
        )
        operations = [use_old, family_alive, store_new]
        try:
            self._table.transact(operations)
        except ConditionFailedError as exc:
            if operations.index(use_old) in exc.failed:
                raise RefreshTokenUsedError() from None
            raise FamilyRevokedError() from None

    def revoke_family(self, family_id: str) -> None:
        """Every refresh token of the login stops working."""
        try:
            self._table.update_with(
                {"pk": f"family#{family_id}"},
                Condition("SET revoked = :true", values={":true": True}),
                Condition("attribute_exists(pk)"),
            )
        except ConditionFailedError:
            pass  # expired and gone already: nothing left to revoke

    # Service clients

    def put_client(self, client: ClientItem) -> None:
        """Create or replace a service client."""
        self._table.put(dict(client))

    def client(self, client_id: str) -> ClientItem | None:
        """The client, or None."""
        try:
            return self._table.get({"pk": f"client#{client_id}"})  # type: ignore[return-value]
        except ItemNotFoundError:
            return None

    @staticmethod
    def _refresh_item(token: str, family_id: str, user_id: str, expires_at: int) -> dict[str, object]:
        return {
            **refresh_key(token),
            "family_id": family_id,
            "user_id": user_id,
            "used": False,
            "expires_at": expires_at,
        }


auth_store = Lazy(lambda: AuthStore(Table(dynamodb(), settings().table_name)))
"""The process's store."""

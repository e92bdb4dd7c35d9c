"""The auth service's table: users, usernames, refresh-token families, lockouts, clients.

One table, one string key ``pk`` prefixed by kind:

| item | pk | main attributes |
| --- | --- | --- |
| user | ``user#<user_id>`` | username, password_hash, created_at |
| username claim | ``username#<username>`` | user_id (uniqueness: written in the same transaction) |
| refresh token | ``refresh#<sha256>`` | family_id, user_id, used, expires_at, scope, client_id, used_at, successor |
| token family (one login) | ``family#<family_id>`` | user_id, revoked, expires_at |
| a subject's failed logins from one address | ``lockout#<kind>#<address>#<name>`` | failures, window_ends, expires_at |
| a subject's failed logins from anywhere | ``slowdown#<kind>#<name>`` | failures, window_ends, not_before, expires_at |
| an address's anonymous expensive work | ``budget#<address>#<window end>`` | spent, expires_at |
| client | ``client#<client_id>`` | scope, created_at; secret_hash (a service), or redirect_uris (a public app) |
| a login page's request (r3) | ``authorize#<sha256 of its id>`` | client_id, redirect_uri, scope, code_challenge, |
| | | state, browser, expires_at |
| authorization code (r3) | ``code#<sha256>`` | client_id, redirect_uri, code_challenge, user_id, scope, |
| | | family_id, used, valid_until, expires_at |
| an erasure (the outbox of its event) | ``erasure#<user_id>`` | erasure_id, correlation_id, requested_at, expires_at |

A subject's ``kind`` is ``user`` or ``client``, chosen by the code path (the password grant,
client authentication), never by the text typed: ``client:profile-service`` typed as a
username is the user subject of that name and reaches none of the client's counters.
An address contains no ``#``, so ``<address>#<name>`` reads back one way only.

``expires_at`` is the TTL attribute, but DynamoDB deletes expired items only
eventually (moto never): every condition checks it itself, and so does every reader.

The store reports what happened (a username taken, the attempts exhausted or delayed, a
refresh token used already, a login revoked) as the exceptions below; ``attempts.py``,
``tokens.py`` and ``users.py`` decide what that means for the client.
"""

from __future__ import annotations

import contextlib
import hashlib
from dataclasses import dataclass
from typing import Any, Literal, Required, TypedDict

from servicekit.dynamo import Condition, Item, Table, dynamodb
from servicekit.errors import ConditionFailedError, ItemNotFoundError
from servicekit.lazy import Lazy

from .settings import settings

NOT_EXISTS = Condition("attribute_not_exists(pk)")
EXISTS = Condition("attribute_exists(pk)")
Key = dict[str, str]


@dataclass(frozen=True)
class Subject:
    """Whose logins are counted: a user (by username) or a service client (by client id)."""

    kind: Literal["user", "client"]
    name: str


def lockout_key(subject: Subject, address: str) -> Key:
    """The failed logins of ``subject`` from ``address``."""
    return {"pk": f"lockout#{subject.kind}#{address}#{subject.name}"}


def slowdown_key(subject: Subject) -> Key:
    """The failed logins of ``subject`` from every address."""
    return {"pk": f"slowdown#{subject.kind}#{subject.name}"}


def budget_key(address: str, window_ends: int) -> Key:
    """The anonymous expensive work of ``address`` in the window ending at ``window_ends``."""
    return {"pk": f"budget#{address}#{window_ends}"}


class UsernameClaimedError(Exception):
    """The username belongs to a user already; nothing was written."""


class AttemptsExhaustedError(Exception):
    """A counter reached its limit in its window; nothing was counted. The window closes at ``window_ends``."""

    def __init__(self, window_ends: int) -> None:
        super().__init__(window_ends)
        self.window_ends = window_ends


class AttemptsDelayedError(Exception):
    """The subject's next attempt may come at ``not_before`` only; nothing was counted."""

    def __init__(self, not_before: int) -> None:
        super().__init__(not_before)
        self.not_before = not_before


class AuthorizationRequestGoneError(Exception):
    """The login page's request was used already, or has expired; nothing was written."""


class CodeUsedError(Exception):
    """The authorization code was used already (or expired in the meantime); nothing was written."""


class RefreshTokenUsedError(Exception):
    """The refresh token was used already (or expired in the meantime); nothing was written."""


class RefreshTokenChangedError(Exception):
    """The refresh token is not as it was read (a concurrent use, or a retry's window closed); nothing was written."""


class SuccessorUsedError(Exception):
    """The refresh token's successor was used already; nothing was written."""


class FamilyRevokedError(Exception):
    """The refresh token's login was revoked (or has expired and gone); nothing was written."""


class UserGoneError(Exception):
    """The user was deleted already (a concurrent erasure); nothing was written."""


class UserItem(TypedDict):
    pk: str
    user_id: str
    username: str
    password_hash: str
    created_at: str


class RefreshItem(TypedDict, total=False):
    pk: Required[str]
    family_id: Required[str]
    user_id: Required[str]
    used: Required[bool]
    expires_at: Required[int]
    used_at: int  # when it was rotated
    successor: str  # the key of the token it was rotated to: its hash, never the token
    scope: str  # what the login was granted: a refresh may ask for at most this (absent: the user scope)
    client_id: str  # the client the login named or authenticated (absent: none); only it may refresh


class ErasureItem(TypedDict):
    pk: str
    user_id: str
    erasure_id: str
    correlation_id: str
    requested_at: float  # seconds since the epoch, to the millisecond
    expires_at: int


class ClientItem(TypedDict, total=False):
    pk: Required[str]
    client_id: Required[str]
    scope: Required[str]
    created_at: Required[str]
    secret_hash: str  # a service client (client credentials); absent for a public app
    redirect_uris: list[str]  # a public app's exact redirect URIs (authorization code grant)


class AuthorizationRequestItem(TypedDict, total=False):
    """A login page's ``GET /authorize``, valid as it was checked, until its form is posted or it expires."""

    pk: Required[str]
    client_id: Required[str]
    redirect_uri: Required[str]
    scope: Required[str]
    code_challenge: Required[str]
    browser: Required[str]  # SHA-256 of the browser's cookie: only that browser may post the form
    expires_at: Required[int]
    state: str  # absent when the client sent none


class CodeItem(TypedDict):
    """An authorization code, stored by hash; what its first use issues is the family ``family_id``."""

    pk: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    user_id: str
    scope: str
    family_id: str
    used: bool
    valid_until: int  # a code works before this time only
    expires_at: int  # kept longer (the TTL), so that a second use is still recognised as theft


def refresh_key(token: str) -> dict[str, str]:
    """Refresh tokens are stored by hash: a leaked table does not leak usable tokens."""
    return {"pk": "refresh#" + hashlib.sha256(token.encode()).hexdigest()}


def authorization_request_key(request_id: str) -> dict[str, str]:
    """A login page's request, by the hash of the id its form carries."""
    return {"pk": "authorize#" + hashlib.sha256(request_id.encode()).hexdigest()}


def code_key(code: str) -> dict[str, str]:
    """Authorization codes are stored by hash, as refresh tokens are."""
    return {"pk": "code#" + hashlib.sha256(code.encode()).hexdigest()}


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

    def user(self, user_id: str) -> UserItem | None:
        """The user, or None."""
        try:
            return self._table.get({"pk": f"user#{user_id}"})  # type: ignore[return-value]
        except ItemNotFoundError:
            return None

    def user_by_name(self, username: str) -> UserItem | None:
        """The user holding ``username``, or None."""
        try:
            claim = self._table.get({"pk": f"username#{username}"})
        except ItemNotFoundError:
            return None
        return self.user(claim["user_id"])

    def erase_user(self, user: UserItem, record: ErasureItem) -> None:
        """Delete the user and free the username, writing the erasure's record, in one transaction.

        The record is the outbox of the ``UserErased`` event: the table's stream carries it
        to the publisher, so the event cannot be lost once the user is gone. ``UserGoneError``
        if the user was deleted already.
        """
        claim = Condition("user_id = :user_id", values={":user_id": user["user_id"]})
        try:
            self._table.transact(
                [
                    self._table.delete_op({"pk": user["pk"]}, EXISTS),
                    self._table.delete_op({"pk": f"username#{user['username']}"}, claim),
                    self._table.put_op(dict(record)),
                ]
            )
        except ConditionFailedError:
            raise UserGoneError(user["user_id"]) from None

    def erasure(self, user_id: str) -> ErasureItem | None:
        """The record of the user's erasure, or None."""
        try:
            return self._table.get({"pk": f"erasure#{user_id}"})  # type: ignore[return-value]
        except ItemNotFoundError:
            return None

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Replace the hash (after a parameter upgrade); nothing if the user is gone meanwhile."""
        user = self.user(user_id)
        if user is not None:
            self._table.put({**user, "password_hash": password_hash})

    # Failed logins and anonymous work

    def count_attempt(self, key: Key, now: int, limit: int, window_s: int) -> None:
        """Count an attempt as failed before its secret is checked; ``AttemptsExhaustedError`` at ``limit``.

        Counting first, in one conditional write, is what holds the limit under
        concurrency: checks against a count read earlier would let a burst of guesses
        all through. A login that then succeeds clears the count (``clear_failures``).
        """
        for _ in range(2):
            stored = self._open_window(key, now, window_s)
            if stored is None:
                return
            if stored["failures"] >= limit:
                raise AttemptsExhaustedError(stored["window_ends"])
            try:  # a window is open: count in it
                self._table.update_with(
                    key,
                    Condition("ADD failures :one", values={":one": 1}),
                    Condition("window_ends > :now AND failures < :limit", values={":now": now, ":limit": limit}),
                )
                return
            except ConditionFailedError as failed:
                stored = failed.item
            if stored is not None and stored["window_ends"] > now:
                raise AttemptsExhaustedError(stored["window_ends"])
            # The window closed, or a successful login cleared it, between the writes: start again.
        raise AttemptsExhaustedError(now + 1)  # windows came and went under this attempt twice: retry soon

    def claim_attempt(self, key: Key, now: int, free: int, window_s: int, max_delay_s: int) -> None:
        """Count an attempt of a subject from anywhere, before its secret is checked.

        The first ``free`` attempts of a window come as they like; past them, the n-th must
        come n seconds after the one before it (at most ``max_delay_s``): earlier, nothing
        is counted and ``AttemptsDelayedError`` says when. The wait is set in the same
        conditional write that counts, from the stored count (``not_before = failures +
        offset``), so of concurrent attempts one takes each turn. An attempt that must wait
        costs one write that fails and reports the stored item (no read, no second write).
        """
        in_turn = "window_ends > :now AND (failures < :free OR not_before <= :now)"
        growing = Condition(
            "ADD failures :one SET not_before = failures + :offset", values={":one": 1, ":offset": now + 1 - free}
        )
        capped = Condition(
            "ADD failures :one SET not_before = :latest", values={":one": 1, ":latest": now + max_delay_s}
        )
        for _ in range(3):
            stored = self._open_window(key, now, window_s, not_before=now)
            if stored is None:
                return
            if stored["not_before"] > now and stored["failures"] >= free:
                raise AttemptsDelayedError(stored["not_before"])
            # Past free + max_delay_s failures the wait stops growing.
            update = growing if stored["failures"] < free + max_delay_s else capped
            limit = {":cap": free + max_delay_s} if update is growing else {}
            try:
                self._table.update_with(
                    key,
                    update,
                    Condition(
                        in_turn + (" AND failures < :cap" if limit else ""),
                        values={":now": now, ":free": free, **limit},
                    ),
                )
                return
            except ConditionFailedError as failed:
                stored = failed.item
            if stored is not None and stored["window_ends"] > now and stored["not_before"] > now:
                raise AttemptsDelayedError(stored["not_before"])
            # The window closed, or the count crossed the cap, meanwhile: look again.
        raise AttemptsDelayedError(now + 1)

    def take_back(self, key: Key) -> None:
        """Uncount one attempt: it turned out right, or was never checked."""
        with contextlib.suppress(ConditionFailedError):
            self._table.update_with(key, Condition("ADD failures :minus", values={":minus": -1}), EXISTS)

    def clear_failures(self, key: Key) -> None:
        """A successful login closes the window (and takes back its own count)."""
        self._table.delete(key)

    def spend(self, address: str, now: int, limit: int, window_s: int) -> None:
        """Count one piece of anonymous expensive work of ``address``; ``AttemptsExhaustedError`` past ``limit``.

        A fixed window per item (its start is in the key): one write, no reset to race with.
        """
        window_ends = (now // window_s + 1) * window_s
        try:
            self._table.update_with(
                budget_key(address, window_ends),
                Condition("ADD spent :one SET expires_at = :ends", values={":one": 1, ":ends": window_ends}),
                Condition("attribute_not_exists(spent) OR spent < :limit", values={":limit": limit}),
            )
        except ConditionFailedError:
            raise AttemptsExhaustedError(window_ends) from None

    def _open_window(self, key: Key, now: int, window_s: int, **extra: int) -> Item | None:
        """Start a window with this attempt as its first (None); if one is open, the stored item, unchanged."""
        assignments = "".join(f", {name} = :{name}" for name in extra)
        try:
            self._table.update_with(
                key,
                Condition(
                    f"SET failures = :one, window_ends = :ends, expires_at = :ends{assignments}",
                    values={":one": 1, ":ends": now + window_s, **{f":{name}": v for name, v in extra.items()}},
                ),
                Condition("attribute_not_exists(pk) OR window_ends <= :now", values={":now": now}),
            )
        except ConditionFailedError as failed:
            # No item only if a success deleted it meanwhile: as good as an empty window.
            return failed.item or {"failures": 0, "window_ends": now + window_s, "not_before": now}
        return None

    # Refresh-token families

    def start_family(
        self, family_id: str, user_id: str, token: str, expires_at: int, *, scope: str, client_id: str | None
    ) -> None:
        """A login: a new family with its first refresh token, bound to ``client_id`` (or to no client).

        ``UserGoneError`` when the user's erasure won the race (the family's keys are new: only
        the user's check can fail).
        """
        try:
            self._table.transact(
                self._new_family(family_id, user_id, token, expires_at, scope=scope, client_id=client_id)
            )
        except ConditionFailedError:
            raise UserGoneError(user_id) from None

    def _new_family(
        self, family_id: str, user_id: str, token: str, expires_at: int, *, scope: str, client_id: str | None
    ) -> list[dict[str, Any]]:
        first = {**self._refresh_item(token, family_id, user_id, expires_at), **_binding(scope, client_id)}
        return [
            self._table.put_op(
                {"pk": f"family#{family_id}", "user_id": user_id, "revoked": False, "expires_at": expires_at},
                NOT_EXISTS,
            ),
            self._table.put_op(first, NOT_EXISTS),
            # A login racing the user's erasure starts no login of a user who is gone.
            self._table.check_op({"pk": f"user#{user_id}"}, EXISTS),
        ]

    def refresh_token(self, token: str) -> RefreshItem | None:
        """The stored refresh token, expired or not; None if unknown."""
        try:
            return self._table.get(refresh_key(token))  # type: ignore[return-value]
        except ItemNotFoundError:
            return None

    def rotate(self, old: str, new: str, item: RefreshItem, now: int) -> None:
        """Mark ``old`` (read as ``item``, unused) used, remembering ``new`` as its successor, and store ``new``.

        One transaction: of concurrent uses of the same token exactly one wins; the others
        get ``RefreshTokenChangedError`` (``RefreshTokenUsedError`` if it was read used).
        ``FamilyRevokedError`` if its login was revoked.
        """
        if item["used"]:
            raise RefreshTokenUsedError()
        use_old = self._table.update_op(
            refresh_key(old),
            Condition(
                "SET used = :true, used_at = :now, successor = :successor",
                values={":true": True, ":now": now, ":successor": refresh_key(new)["pk"]},
            ),
            Condition("used = :false AND expires_at > :now", values={":false": False, ":now": now}),
        )
        operations = [use_old, *self._successor(new, item)]
        try:
            self._table.transact(operations)
        except ConditionFailedError as exc:
            if 0 in exc.failed:
                raise RefreshTokenChangedError() from None
            raise FamilyRevokedError() from None

    def rotate_again(self, old: str, new: str, item: RefreshItem, since: int) -> None:
        """Rotate ``old`` (read as ``item``, used at ``since`` or later) again: ``new`` replaces its successor.

        One transaction: the successor is deleted if it is unused (``SuccessorUsedError``
        otherwise), ``old`` names ``new`` as its successor if it still names the one read
        and was rotated at ``since`` or later (``RefreshTokenChangedError`` otherwise);
        ``FamilyRevokedError`` if its login was revoked.
        """
        read = item.get("successor", "")
        replace = self._table.update_op(
            refresh_key(old),
            Condition("SET successor = :successor", values={":successor": refresh_key(new)["pk"]}),
            Condition(
                "used = :true AND successor = :read AND used_at >= :since",
                values={":true": True, ":read": read, ":since": since},
            ),
        )
        drop_successor = self._table.delete_op({"pk": read}, Condition("used = :false", values={":false": False}))
        operations = [replace, drop_successor, *self._successor(new, item)]
        try:
            self._table.transact(operations)
        except ConditionFailedError as exc:
            if 0 in exc.failed:
                raise RefreshTokenChangedError() from None
            if 1 in exc.failed:
                raise SuccessorUsedError() from None
            raise FamilyRevokedError() from None

    def _successor(self, new: str, item: RefreshItem) -> list[dict[str, Any]]:
        """The operations that store ``new`` in ``item``'s family, if the family is not revoked."""
        family_alive = self._table.check_op(
            {"pk": f"family#{item['family_id']}"}, Condition("revoked = :false", values={":false": False})
        )
        inherited: dict[str, Any] = {name: item[name] for name in ("scope", "client_id") if name in item}  # type: ignore[literal-required]
        store_new = self._table.put_op(
            {**self._refresh_item(new, item["family_id"], item["user_id"], item["expires_at"]), **inherited},
            NOT_EXISTS,
        )
        # An erased user's refresh tokens all stop working with the user (erasure.py).
        user_exists = self._table.check_op({"pk": f"user#{item['user_id']}"}, EXISTS)
        return [family_alive, store_new, user_exists]

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

    # Login pages and authorization codes (r3)

    def put_authorization_request(self, item: AuthorizationRequestItem) -> None:
        """Remember a login page's request (keyed by ``authorization_request_key``)."""
        self._table.put(dict(item))

    def authorization_request(self, request_id: str) -> AuthorizationRequestItem | None:
        """The login page's request, expired or not; None if unknown (or used)."""
        try:
            return self._table.get(authorization_request_key(request_id))  # type: ignore[return-value]
        except ItemNotFoundError:
            return None

    def issue_code(self, request_id: str, code: CodeItem, now: int) -> None:
        """Store ``code`` and forget the request it answers, in one transaction.

        ``AuthorizationRequestGoneError`` if the request was used meanwhile (two posts of one
        form) or has expired: one login page gives at most one code.
        """
        try:
            self._table.transact(
                [
                    self._table.delete_op(
                        authorization_request_key(request_id), Condition("expires_at > :now", values={":now": now})
                    ),
                    self._table.put_op(dict(code), NOT_EXISTS),
                ]
            )
        except ConditionFailedError:
            raise AuthorizationRequestGoneError() from None

    def code(self, code: str) -> CodeItem | None:
        """The stored authorization code, used, expired or not; None if unknown."""
        try:
            return self._table.get(code_key(code))  # type: ignore[return-value]
        except ItemNotFoundError:
            return None

    def redeem_code(self, code: str, item: CodeItem, refresh_token: str, refresh_expires_at: int, now: int) -> None:
        """Mark the code used and start its login (``item``'s family, with ``refresh_token``) in one transaction.

        Of concurrent uses exactly one wins; the others get ``CodeUsedError``, and the family
        they would revoke as theft exists already.
        """
        use = self._table.update_op(
            code_key(code),
            Condition("SET used = :true, used_at = :now", values={":true": True, ":now": now}),
            Condition("used = :false AND valid_until > :now", values={":false": False, ":now": now}),
        )
        family = self._new_family(
            item["family_id"],
            item["user_id"],
            refresh_token,
            refresh_expires_at,
            scope=item["scope"],
            client_id=item["client_id"],
        )
        try:
            self._table.transact([use, *family])
        except ConditionFailedError:
            raise CodeUsedError() from None

    # Clients

    def put_client(self, client: ClientItem) -> None:
        """Create or replace a client."""
        self._table.put(dict(client))

    def replace_client_secret_hash(self, client: ClientItem, secret_hash: str) -> None:
        """Store the secret's new hash, unless the client's secret changed meanwhile (then nothing)."""
        unchanged = Condition("secret_hash = :old", values={":old": client["secret_hash"]})
        try:
            self._table.put({**client, "secret_hash": secret_hash}, unchanged)
        except ConditionFailedError:
            pass  # a new secret, or the client deleted: the hash of before is not the one to replace

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


def _binding(scope: str, client_id: str | None) -> dict[str, str]:
    """What a login's refresh tokens carry: its scope, and its client unless it named none."""
    return {"scope": scope, **({"client_id": client_id} if client_id is not None else {})}


auth_store = Lazy(lambda: AuthStore(Table(dynamodb(), settings().table_name)))
"""The process's store."""

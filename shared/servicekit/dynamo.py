"""DynamoDB access for the services: one client per process, a small ``Table``, typed errors.

botocore's ``ClientError`` never leaves this module: a failed condition becomes
``ConditionFailedError``, a missing item ``ItemNotFoundError``, a database that
does not answer (after botocore's ``standard`` retries with backoff, which cover
throttling) ``StoreUnavailableError``, rendered as 503, and any other refusal
``StoreError`` (a bug or a missing permission: a 500).

boto3 is imported on first use only: it costs about 120 ms, and importing ``app.py``
is the whole cold start of an authorizer, which never touches a table.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from decimal import Decimal
from typing import Any

import msgspec

from . import aws, deadline, env, metrics
from .errors import ConditionFailedError, ItemNotFoundError, StoreError, StoreUnavailableError, UserErasedError
from .lazy import Lazy

logger = logging.getLogger(__name__)

Item = dict[str, Any]
VERSION = "version"
# Set by every ``Table.update`` to an id of that call: botocore sends a timed-out request
# again with the same parameters, so a stored ``write_id`` equal to the call's own tells
# "my first attempt landed" from "someone else wrote".
WRITE_ID = "write_id"
# Asked of every conditional single-item write: a failed condition then says what is stored.
ALL_OLD = {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"}
# The attribute of a tombstone: the item of a user whose account was erased (``Table.erase``).
# Reads see no item, and no write brings one back: a still-valid token of the user gets 403.
ERASED = "erased_at"
EXPIRES = "expires_at"  # the TTL attribute of the subscribers' tables: tombstones go by themselves
# How long a tombstone stays: longer than any access token of the user lives (15 minutes)
# and an authorizer caches its answer (1 minute).
TOMBSTONE_TTL_S = 24 * 3600

# Short timeouts: a request must fail fast with a 503, never hang, when the database is
# away (DynamoDB answers in milliseconds). Throttling and transient errors are retried by
# botocore's standard mode. One call's worst case, backoff included, plus a request's
# budget (servicekit.deadline) stays below the function's timeout: a test computes it.
CONNECT_TIMEOUT_S = 1.0
READ_TIMEOUT_S = 1.0
# The local stack's DynamoDB is moto's server, one request at a time in a Python process on
# a developer's busy machine: a call it answers late is still applied, and botocore's retry
# of a timed-out ADD would count a write twice. Locally, wait for it instead.
LOCAL_READ_TIMEOUT_S = 10.0
MAX_ATTEMPTS = 3
# Conflicts with transactions in flight, which botocore does not retry: attempts and first backoff.
TRANSACTION_ATTEMPTS = 4
CONFLICT_BACKOFF_S = 0.02

_UNAVAILABLE_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "ResourceNotFoundException",
    }
)


def _new_client() -> Any:
    from botocore.config import Config

    options: dict[str, Any] = {
        "endpoint_url": env.optional("AWS_ENDPOINT_URL_DYNAMODB"),
        "config": Config(
            retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
            connect_timeout=CONNECT_TIMEOUT_S,
            read_timeout=LOCAL_READ_TIMEOUT_S if env.is_local() else READ_TIMEOUT_S,
        ),
    }
    if env.is_local() and not os.environ.get("AWS_ACCESS_KEY_ID"):
        # The local DynamoDB (moto's server) accepts any credentials; a developer
        # should not need an AWS profile to run the stack.
        options.update(aws_access_key_id="local", aws_secret_access_key="local")  # noqa: S106
    return aws.client("dynamodb", **options)


dynamodb = Lazy(_new_client)
"""The process's DynamoDB client (tests override it with one made under moto)."""


def _codec() -> tuple[Any, Any]:
    from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

    return TypeSerializer(), TypeDeserializer()


codec = Lazy(_codec)


# DynamoDB numbers: 38 significant digits, magnitudes from 1E-130 to 9.99E+125.
_SMALLEST = 1e-130
_LARGEST = 9.99e125


def _to_decimal(value: Any) -> Any:
    if isinstance(value, float):
        if abs(value) < _SMALLEST:
            # A valid input such as a latitude of 1e-200 must not become a 500: it is 0
            # at any precision a number here can mean (IEEE underflow does the same).
            return Decimal(0)
        if abs(value) > _LARGEST:
            raise ValueError(f"{value!r} is outside the range DynamoDB can store")
        return Decimal(repr(value))
    if isinstance(value, dict):
        return {k: _to_decimal(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_decimal(v) for v in value]
    return value


def _from_decimal(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_decimal(v) for k, v in value.items()}
    if isinstance(value, (list, set)):
        return [_from_decimal(v) for v in value]
    return value


def serialize(values: Mapping[str, Any]) -> dict[str, Any]:
    """Plain Python values (floats included) to DynamoDB's attribute-value shape."""
    serializer, _ = codec()
    return {k: serializer.serialize(_to_decimal(v)) for k, v in values.items()}


def deserialize(item: Mapping[str, Any]) -> Item:
    """DynamoDB's attribute-value shape to plain Python values (numbers as int or float)."""
    _, deserializer = codec()
    return {k: _from_decimal(deserializer.deserialize(v)) for k, v in item.items()}


class Condition(msgspec.Struct, frozen=True):
    """A condition or key expression with its placeholder names and values."""

    expression: str
    names: Mapping[str, str] | None = None
    values: Mapping[str, Any] | None = None

    def params(self, key: str = "ConditionExpression") -> dict[str, Any]:
        """The request parameters that carry this expression."""
        params: dict[str, Any] = {key: self.expression}
        if self.names:
            params["ExpressionAttributeNames"] = dict(self.names)
        if self.values:
            params["ExpressionAttributeValues"] = serialize(self.values)
        return params


class Table:
    """One DynamoDB table. Every write can carry a condition; every failure is typed."""

    def __init__(self, client: Any, name: str, sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self.name = name
        self._sleep = sleep  # the wait between retries of a conflicting write (tests count it)

    def get(self, key: Mapping[str, Any]) -> Item:
        """The item with ``key`` (a strongly consistent read), or ``ItemNotFoundError`` (a tombstone is none)."""
        response = self._call("get_item", TableName=self.name, Key=serialize(key), ConsistentRead=True)
        if "Item" not in response or ERASED in response["Item"]:
            raise ItemNotFoundError(self._describe(key))
        return deserialize(response["Item"])

    def put(self, item: Mapping[str, Any], condition: Condition | None = None) -> None:
        """Write ``item`` whole, if ``condition`` holds (``ConditionFailedError`` otherwise)."""
        params = {**condition.params(), **ALL_OLD} if condition else {}
        self._call("put_item", TableName=self.name, Item=serialize(item), **params)

    def update(
        self,
        key: Mapping[str, Any],
        changes: Mapping[str, Any],
        *,
        expected_versions: Collection[int] | None = None,
        must_exist: bool = False,
    ) -> Item:
        """Set ``changes`` and add one to ``version`` in one atomic write; return the new item.

        With ``expected_versions`` the write happens only if the stored version is one
        of them (optimistic concurrency; none can match an empty set); without it,
        concurrent writers each still get their own increment, because DynamoDB
        applies ``ADD`` atomically.

        A condition that fails only because this very call's earlier attempt landed
        (botocore retried it after its answer was lost) is no failure: the stored item
        carries this call's ``write_id``, and it is returned as if written once. A
        tombstone (``erase``) is never written over: ``UserErasedError``.
        """
        write_id = uuid.uuid4().hex
        names = {"#version": VERSION, "#write_id": WRITE_ID, "#erased": ERASED}
        values: dict[str, Any] = {":one": 1, ":write_id": write_id}
        assignments = ["#write_id = :write_id"]
        for i, (field, value) in enumerate(changes.items()):
            names[f"#f{i}"] = field
            values[f":v{i}"] = value
            assignments.append(f"#f{i} = :v{i}")
        expression = f"SET {', '.join(assignments)} ADD #version :one"
        # Never this call's own write twice: a retry of a landed attempt fails here and is
        # recognised below, instead of adding to the version a second time.
        clauses = ["(attribute_not_exists(#write_id) OR #write_id <> :write_id)", "attribute_not_exists(#erased)"]
        if expected_versions is not None:
            if not expected_versions:
                raise ConditionFailedError("no version can match an empty set")
            accepted = {f":e{i}": version for i, version in enumerate(sorted(expected_versions))}
            clauses.append(f"#version IN ({', '.join(accepted)})")
            values.update(accepted)
        if must_exist:
            names["#key"] = next(iter(key))
            clauses.append("attribute_exists(#key)")
        params = {**Condition(" AND ".join(clauses)).params(), **ALL_OLD}
        params.update(
            UpdateExpression=expression,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize(values),
        )
        try:
            response = self._call(
                "update_item", TableName=self.name, Key=serialize(key), ReturnValues="ALL_NEW", **params
            )
        except ConditionFailedError as failed:
            if failed.item is not None and ERASED in failed.item:
                raise UserErasedError("This user's account was erased.") from None
            if failed.item is not None and failed.item.get(WRITE_ID) == write_id:
                logger.info("dynamodb update_item: an earlier attempt of this write landed; its answer was lost")
                return failed.item
            raise
        return deserialize(response["Attributes"])

    def update_with(self, key: Mapping[str, Any], update: Condition, condition: Condition | None = None) -> Item:
        """Apply an update expression of the caller's (counters, flags), if ``condition`` holds."""
        operation = self.update_op(key, update, condition)["Update"]
        if condition:
            operation.update(ALL_OLD)
        response = self._call("update_item", ReturnValues="ALL_NEW", **operation)
        return deserialize(response["Attributes"])

    def delete(self, key: Mapping[str, Any], *, must_exist: bool = False) -> None:
        """Delete the item; with ``must_exist``, ``ItemNotFoundError`` when there was none (a tombstone stays)."""
        params = {}
        if must_exist:
            names = {"#key": next(iter(key)), "#erased": ERASED}
            params = Condition("attribute_exists(#key) AND attribute_not_exists(#erased)", names=names).params()
        try:
            self._call("delete_item", TableName=self.name, Key=serialize(key), **params)
        except ConditionFailedError:
            raise ItemNotFoundError(self._describe(key)) from None

    def erase(self, key: Mapping[str, Any], erasure_id: str, now: float) -> bool:
        """Replace the item of ``key``, whatever it holds, with a tombstone; False if one was there already.

        One write: a write of the user's that landed before it is erased with the rest, and
        every later one fails on the tombstone (``update``). The tombstone expires after
        ``TOMBSTONE_TTL_S`` (DynamoDB's TTL), long after the user's last token has.
        """
        tombstone = {**key, ERASED: round(now, 3), "erasure_id": erasure_id, EXPIRES: int(now) + TOMBSTONE_TTL_S}
        try:
            self.put(tombstone, Condition("attribute_not_exists(#erased)", names={"#erased": ERASED}))
        except ConditionFailedError:
            return False
        return True

    # Operations for ``transact``: each is one entry of TransactWriteItems.

    def put_op(self, item: Mapping[str, Any], condition: Condition | None = None) -> dict[str, Any]:
        """A Put for ``transact``."""
        return {"Put": {"TableName": self.name, "Item": serialize(item), **(condition.params() if condition else {})}}

    def update_op(
        self, key: Mapping[str, Any], update: Condition, condition: Condition | None = None
    ) -> dict[str, Any]:
        """An Update for ``transact``; ``update`` carries the update expression."""
        params = update.params("UpdateExpression")
        if condition:
            cond = condition.params()
            params["ConditionExpression"] = cond["ConditionExpression"]
            params.setdefault("ExpressionAttributeNames", {}).update(cond.get("ExpressionAttributeNames", {}))
            params.setdefault("ExpressionAttributeValues", {}).update(cond.get("ExpressionAttributeValues", {}))
        return {"Update": {"TableName": self.name, "Key": serialize(key), **params}}

    def check_op(self, key: Mapping[str, Any], condition: Condition) -> dict[str, Any]:
        """A ConditionCheck for ``transact``."""
        return {"ConditionCheck": {"TableName": self.name, "Key": serialize(key), **condition.params()}}

    def delete_op(self, key: Mapping[str, Any], condition: Condition) -> dict[str, Any]:
        """A Delete for ``transact``."""
        return {"Delete": {"TableName": self.name, "Key": serialize(key), **condition.params()}}

    def transact(self, operations: Sequence[Mapping[str, Any]]) -> None:
        """All of ``operations`` or none: ``ConditionFailedError`` names which conditions failed."""
        self._call("transact_write_items", TransactItems=list(operations))

    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        # DynamoDB refuses a transaction, or a plain write, that meets a transaction in
        # flight on the same item, and botocore does not retry that. Retrying here lets
        # the loser of a race see the winner's write and fail on its own condition.
        for attempt in range(TRANSACTION_ATTEMPTS):
            if attempt:
                self._sleep(CONFLICT_BACKOFF_S * 2 ** (attempt - 1))
            if deadline.spent():
                logger.warning("dynamodb %s not started: the request's time budget is spent", operation)
                raise StoreUnavailableError("The request took too long; retry it.")
            try:
                response = self._call_once(operation, **params)
            except _TransactionConflict:
                continue
            except (StoreUnavailableError, StoreError):
                metrics.count(metrics.DYNAMODB_CALLS_FAILED)
                raise
            _count_retries(attempt, response)
            return response
        metrics.count(metrics.DYNAMODB_CALLS_FAILED)
        logger.warning("dynamodb %s failed: still conflicting after %d attempts", operation, TRANSACTION_ATTEMPTS)
        raise StoreUnavailableError("The database is busy; retry the request.")

    def _call_once(self, operation: str, **params: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return getattr(self._client, operation)(**params)  # type: ignore[no-any-return]
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            if code == "ConditionalCheckFailedException":
                stored = exc.response.get("Item")
                raise ConditionFailedError(operation, item=deserialize(stored) if stored else None) from exc
            if code == "TransactionConflictException":
                raise _TransactionConflict() from exc
            if code == "TransactionCanceledException":
                reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
                if "TransactionConflict" in reasons:
                    raise _TransactionConflict() from exc
                failed = [i for i, reason in enumerate(reasons) if reason == "ConditionalCheckFailed"]
                if failed or not reasons:
                    raise ConditionFailedError(operation, failed=failed) from exc
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if code in _UNAVAILABLE_CODES or code == "TransactionCanceledException" or status >= 500:
                logger.warning("dynamodb %s failed: %s", operation, code)
                raise StoreUnavailableError("The database is unavailable; retry the request.") from exc
            raise StoreError(f"dynamodb {operation} refused: {code}") from exc
        except BotoCoreError as exc:
            # Connection refused, timeouts, endpoint errors: after botocore's retries.
            logger.warning("dynamodb %s failed: %s", operation, type(exc).__name__)
            raise StoreUnavailableError("The database is unavailable; retry the request.") from exc

    def _describe(self, key: Mapping[str, Any]) -> str:
        return ", ".join(f"{k}={v}" for k, v in key.items())


def _count_retries(conflicts: int, response: Mapping[str, Any]) -> None:
    # Our retries of conflicts, and botocore's own (throttling, 5xx, timeouts), which it reports.
    if conflicts or response.get("ResponseMetadata", {}).get("RetryAttempts"):
        metrics.count(metrics.DYNAMODB_CALLS_RETRIED)


class _TransactionConflict(Exception):
    """A transaction in flight holds an item this request writes."""

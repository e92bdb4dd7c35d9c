"""The shared table access against moto: conditions, conflicts, versions, failures."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from servicekit import dynamo
from servicekit.dynamo import CONFLICT_BACKOFF_S, TRANSACTION_ATTEMPTS, Condition, Table
from servicekit.errors import ConditionFailedError, ItemNotFoundError, StoreError, StoreUnavailableError
from tests.support.dynamodb import AtomicClient
from tests.support.threads import at_once


@pytest.fixture
def table() -> Iterator[Table]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(
            TableName="things",
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
            ],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        )
        # Each request atomic, as in DynamoDB: concurrency tests look for races in our code, not moto's.
        yield Table(AtomicClient(client), "things")


KEY = {"pk": "a", "sk": 1}
# botocore's standard retries of a refused connection wait under 0.1 s in all; a user
# waits a second or two for an answer, and the rest is room for a busy machine.
UNREACHABLE_WITHIN_S = 2.0


def test_put_then_get_round_trips_plain_values(table: Table) -> None:
    item = {**KEY, "float": 12.5, "int": 7, "text": "x", "none": None, "flag": True, "nested": {"list": [1, 2.5]}}

    table.put(item)

    assert table.get(KEY) == item


def test_get_of_a_missing_item_raises_item_not_found(table: Table) -> None:
    with pytest.raises(ItemNotFoundError):
        table.get(KEY)


def test_a_conditional_put_that_fails_writes_nothing(table: Table) -> None:
    table.put({**KEY, "v": 1})

    with pytest.raises(ConditionFailedError):
        table.put({**KEY, "v": 2}, Condition("attribute_not_exists(pk)"))

    assert table.get(KEY)["v"] == 1


def test_update_creates_the_item_at_version_one_and_bumps_it(table: Table) -> None:
    first = table.update(KEY, {"name": "one"})
    second = table.update(KEY, {"name": "two"})

    assert (first["version"], second["version"]) == (1, 2)
    assert second["name"] == "two"


def test_update_that_must_exist_fails_on_a_missing_item(table: Table) -> None:
    with pytest.raises(ConditionFailedError):
        table.update(KEY, {"name": "x"}, must_exist=True)


def test_concurrent_updates_lose_no_increment(table: Table) -> None:
    table.update(KEY, {"name": "start"})

    at_once(20, lambda i: table.update(KEY, {"name": f"writer {i}"}))

    assert table.get(KEY)["version"] == 21


def test_delete_that_must_exist_raises_not_found(table: Table) -> None:
    with pytest.raises(ItemNotFoundError):
        table.delete(KEY, must_exist=True)


def test_delete_removes_the_item(table: Table) -> None:
    table.put(KEY)

    table.delete(KEY, must_exist=True)

    with pytest.raises(ItemNotFoundError):
        table.get(KEY)


def test_a_transaction_reports_which_condition_failed(table: Table) -> None:
    table.put({"pk": "taken", "sk": 1})

    with pytest.raises(ConditionFailedError) as failure:
        table.transact(
            [
                table.put_op({"pk": "free", "sk": 1}, Condition("attribute_not_exists(pk)")),
                table.put_op({"pk": "taken", "sk": 1}, Condition("attribute_not_exists(pk)")),
            ]
        )

    assert failure.value.failed == (1,)
    with pytest.raises(ItemNotFoundError):
        table.get({"pk": "free", "sk": 1})


def test_an_unreachable_database_is_a_store_unavailable_error_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the services' own DynamoDB client (its timeouts and retries), aimed at a port
    # where nothing listens
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")  # discard port: nothing listens
    dynamo.dynamodb.reset()
    try:
        table = Table(dynamo.dynamodb(), "things")

        # WHEN a request is made
        began = time.monotonic()
        with pytest.raises(StoreUnavailableError) as failure:
            table.get(KEY)
        elapsed = time.monotonic() - began
    finally:
        dynamo.dynamodb.reset()

    # THEN it is a 503 without internals, within a time a user waits for an answer
    assert failure.value.STATUS_CODE == 503
    assert "things" not in str(failure.value)
    assert elapsed < UNREACHABLE_WITHIN_S


def test_a_missing_table_is_a_store_unavailable_error(table: Any) -> None:
    other = Table(table._client, "no-such-table")

    with pytest.raises(StoreUnavailableError):
        other.get(KEY)


def test_update_expecting_any_of_several_versions_succeeds_on_one_of_them(table: Table) -> None:
    table.update(KEY, {"name": "one"})
    table.update(KEY, {"name": "two"})

    assert table.update(KEY, {"name": "three"}, expected_versions={1, 2})["version"] == 3


def test_update_expecting_none_of_the_stored_versions_writes_nothing(table: Table) -> None:
    table.update(KEY, {"name": "one"})

    for expected in ({5, 6}, set()):
        with pytest.raises(ConditionFailedError):
            table.update(KEY, {"name": "stale"}, expected_versions=expected)

    assert table.get(KEY)["version"] == 1


class ConflictingClient:
    """A DynamoDB client whose writes collide with other transactions ``conflicts`` times, then succeed."""

    def __init__(self, conflicts: int) -> None:
        self.conflicts = conflicts
        self.calls = 0

    def update_item(self, **params: Any) -> dict[str, Any]:
        return self._answer("UpdateItem", {"Code": "TransactionConflictException"}, {"Attributes": {}})

    def transact_write_items(self, **params: Any) -> dict[str, Any]:
        reasons = {"CancellationReasons": [{"Code": "None"}, {"Code": "TransactionConflict"}]}
        return self._answer("TransactWriteItems", {"Code": "TransactionCanceledException"}, {}, reasons)

    def _answer(
        self, operation: str, error: dict[str, str], answer: dict[str, Any], extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        self.calls += 1
        if self.calls <= self.conflicts:
            raise ClientError({"Error": {**error, "Message": "conflict"}, **(extra or {})}, operation)
        return answer


def test_a_write_refused_for_a_transaction_in_flight_is_retried() -> None:
    # DynamoDB answers TransactionConflictException to a plain write that meets a
    # transaction on the same item, and botocore does not retry it.
    client = ConflictingClient(conflicts=2)

    Table(client, "things").update_with(KEY, Condition("SET flag = :t", values={":t": True}))

    assert client.calls == 3


def test_a_transaction_that_keeps_conflicting_is_a_store_unavailable_error_without_a_final_wait() -> None:
    client = ConflictingClient(conflicts=100)
    waits: list[float] = []

    with pytest.raises(StoreUnavailableError):
        Table(client, "things", sleep=waits.append).transact([{"ConditionCheck": {}}])

    assert client.calls == TRANSACTION_ATTEMPTS
    # a backoff that doubles between attempts, and no wait after the last one
    assert waits == [CONFLICT_BACKOFF_S * 2**i for i in range(TRANSACTION_ATTEMPTS - 1)]


def test_a_request_dynamodb_refuses_is_a_store_error_not_a_botocore_error(table: Table) -> None:
    from botocore.exceptions import ClientError

    with pytest.raises(StoreError) as failure:
        table.put({"pk": "a"})  # no sort key: a ValidationException

    assert not isinstance(failure.value, ClientError)
    assert "things" not in str(failure.value)

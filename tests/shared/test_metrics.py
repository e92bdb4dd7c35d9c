"""The shared metrics: DynamoDB calls retried and failed, and what ``count`` accepts."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from servicekit import metrics, observability
from servicekit.dynamo import Condition, Table
from servicekit.errors import StoreUnavailableError
from tests.shared.test_dynamo import KEY, ConflictingClient
from tests.support import services, tokens
from tests.support.output import counted

LOCATION = {"service": "location", "stage": "local"}


@pytest.fixture
def as_location(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variables the location service's functions have (config.json and the stage)."""
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "location")
    monkeypatch.setenv("STAGE", "local")
    metrics.base_dimensions.reset()


class RetriedByBotocore:
    """A DynamoDB client whose answers say botocore needed ``retries`` more attempts (as after throttling)."""

    def __init__(self, retries: int) -> None:
        self.retries = retries

    def get_item(self, **params: Any) -> dict[str, Any]:
        return {"Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}, "ResponseMetadata": {"RetryAttempts": self.retries}}


def test_a_call_botocore_retried_is_counted(as_location: None, capsys: pytest.CaptureFixture[str]) -> None:
    Table(RetriedByBotocore(retries=2), "things").get(KEY)

    assert counted(capsys.readouterr().out, "DynamoDBCallsRetried") == [LOCATION]


def test_a_call_that_succeeds_at_once_is_not_counted(as_location: None, capsys: pytest.CaptureFixture[str]) -> None:
    Table(RetriedByBotocore(retries=0), "things").get(KEY)

    output = capsys.readouterr().out
    assert counted(output, "DynamoDBCallsRetried") == []
    assert counted(output, "DynamoDBCallsFailed") == []


def test_a_write_retried_after_transaction_conflicts_is_counted_once(
    as_location: None, capsys: pytest.CaptureFixture[str]
) -> None:
    Table(ConflictingClient(conflicts=2), "things").update_with(KEY, Condition("SET flag = :t", values={":t": True}))

    assert counted(capsys.readouterr().out, "DynamoDBCallsRetried") == [LOCATION]


def test_a_call_that_keeps_conflicting_is_counted_failed(as_location: None, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(StoreUnavailableError):
        Table(ConflictingClient(conflicts=100), "things").transact([{"ConditionCheck": {}}])

    output = capsys.readouterr().out
    assert counted(output, "DynamoDBCallsFailed") == [LOCATION]
    assert counted(output, "DynamoDBCallsRetried") == []


def test_a_table_that_does_not_answer_is_counted_failed_by_the_service_that_called_it(
    aws: Any, key_ring: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the location service's table is gone
    aws.delete_table(TableName=services.table_name("location"))
    user_id = str(uuid.uuid4())
    token = key_ring.sign(tokens.claims(user_id))
    capsys.readouterr()

    # WHEN a user reads their location
    with services.load("location").client() as client:
        response = client.http.get(f"/locations/{user_id}", headers=tokens.bearer(token))

    # THEN the answer is a 503 and the failed call is counted as the location service's
    assert response.status_code == 503
    assert counted(capsys.readouterr().out, "DynamoDBCallsFailed") == [LOCATION]


def test_a_count_with_dimensions_the_metric_does_not_declare_is_refused() -> None:
    with pytest.raises(ValueError, match="ProfileReads"):
        metrics.count(metrics.PROFILE_READS, location_status="maybe")
    with pytest.raises(ValueError, match="LoginsFailed"):
        metrics.count(metrics.LOGINS_FAILED, cause="typo")
    with pytest.raises(ValueError, match="ProfileReads"):
        metrics.count(metrics.PROFILE_READS)


def test_every_metric_has_a_unique_name() -> None:
    names = [metric.name for metric in metrics.ALL]

    assert len(names) == len(set(names))


def test_the_first_request_of_a_process_is_counted_as_a_cold_start(capsys: pytest.CaptureFixture[str]) -> None:
    observability.cold_start_counted.reset()  # as in a new process
    metrics.base_dimensions.reset()

    with services.load("location").client() as client:
        client.http.get("/health")
        client.http.get("/health")

    assert counted(capsys.readouterr().out, "ColdStarts") == [LOCATION]

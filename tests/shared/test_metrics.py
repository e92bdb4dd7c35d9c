"""The metrics: DynamoDB calls retried and failed, what ``count`` accepts, where each service declares its own."""

from __future__ import annotations

import ast
import uuid
from pathlib import Path
from typing import Any

import pytest

from servicekit import metrics, observability
from servicekit.dynamo import Condition, Table
from servicekit.errors import StoreUnavailableError
from tests.shared.test_dynamo import KEY, ConflictingClient
from tests.support import services, tokens
from tests.support.output import counted
from tools import dashboard

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
    # GIVEN a metric as a service declares one, with a dimension of its own, and one without
    reads = metrics.Metric("Reads", "reads, by outcome", {"outcome": ("ok", "failed")})
    plain = metrics.Metric("Plain", "plain counts")

    # WHEN counted with a value, a dimension or no dimension it does not declare, THEN refused
    with pytest.raises(ValueError, match="Reads"):
        metrics.count(reads, outcome="maybe")
    with pytest.raises(ValueError, match="Plain"):
        metrics.count(plain, cause="typo")
    with pytest.raises(ValueError, match="Reads"):
        metrics.count(reads)


def test_every_metric_has_a_unique_name() -> None:
    own = [dashboard.own_metrics(name) for name in services.SERVICES]
    names = [metric.name for metric in metrics.SHARED] + [m.name for module in own if module for m in module.ALL]

    assert len(names) == len(set(names))
    assert set(names) == set(dashboard.declared())


@pytest.mark.parametrize(
    "path",
    [
        services.ROOT / f"{name}-service" / "chalicelib" / "metrics.py"
        for name in services.SERVICES
        if dashboard.own_metrics(name)
    ],
)
def test_a_services_own_metrics_module_imports_nothing_but_the_shared_metrics(path: Path) -> None:
    # The tools load it by path (tools.dashboard.own_metrics): nothing else of the service may come with it.
    tree = ast.parse(path.read_text())
    imported = {
        node.module if isinstance(node, ast.ImportFrom) and node.level == 0 else ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
    }

    assert imported == {"servicekit.metrics"}


def test_the_first_request_of_a_process_is_counted_as_a_cold_start(capsys: pytest.CaptureFixture[str]) -> None:
    observability.cold_start_counted.reset()  # as in a new process
    metrics.base_dimensions.reset()

    with services.load("location").client() as client:
        client.http.get("/health")
        client.http.get("/health")

    assert counted(capsys.readouterr().out, "ColdStarts") == [LOCATION]

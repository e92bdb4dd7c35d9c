"""Time bounds, computed from the settings: every worst case ends before the function's timeout.

API Gateway gives up on an integration after 29 s. Each Lambda function's timeout is
below that, and what a request can wait for is below the timeout: its budget for
starting DynamoDB calls, one DynamoDB call at its worst (timeouts x attempts, and
botocore's own backoff between attempts, ``Retry-After`` included), and for the profile
service the location read. An authorizer waits at most for one JWKS fetch.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.retries.standard import ExponentialBackoff
from chalice.config import Config

from servicekit import authorizer, deadline, dynamo
from tests.support import services

API_GATEWAY_INTEGRATION_LIMIT_S = 29
STAGES = ("dev", "prod")
FUNCTIONS = ("api_handler", "jwt_auth")


def _timeout(name: str, stage: str, function: str) -> int:
    folder = services.ROOT / f"{name}-service"
    config = Config(
        chalice_stage=stage,
        function_name=function,
        config_from_disk=json.loads((folder / ".chalice" / "config.json").read_text()),
    )
    return int(config.lambda_timeout)  # None (Chalice's default of 60 s) fails here


def dynamodb_call_worst_case_s() -> float:
    """One call: every attempt timing out, and the longest backoff botocore can wait between them."""
    attempts = dynamo.MAX_ATTEMPTS
    waiting = attempts * (dynamo.CONNECT_TIMEOUT_S + dynamo.READ_TIMEOUT_S)
    scale = ExponentialBackoff._DEFAULT_BACKOFF_CONFIG["throttling_base_scale"]  # the larger of the two scales
    backoff = sum(
        min(scale * ExponentialBackoff._BASE ** (attempt - 1), ExponentialBackoff._MAX_BACKOFF)
        + ExponentialBackoff._RETRY_AFTER_MAX_ADDITIONAL
        for attempt in range(1, attempts)
    )
    return waiting + backoff


def request_worst_case_s(name: str) -> float:
    """Calls start only within the budget, so one may start just before it ends; then the location read."""
    location_read = services.load("profile").module("settings").READ_BUDGET_S if name == "profile" else 0.0
    return deadline.REQUEST_BUDGET_S + dynamodb_call_worst_case_s() + location_read


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("name", services.SERVICES)
def test_every_function_times_out_before_api_gateway_does(name: str, function: str, stage: str) -> None:
    assert _timeout(name, stage, function) < API_GATEWAY_INTEGRATION_LIMIT_S


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("name", services.SERVICES)
def test_a_requests_worst_case_ends_before_its_function_times_out(name: str, stage: str) -> None:
    assert request_worst_case_s(name) < _timeout(name, stage, "api_handler")


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("name", services.SERVICES)
def test_an_authorizers_key_fetch_ends_before_its_function_times_out(name: str, stage: str) -> None:
    jwks_fetch_worst_case_s = 2 * authorizer.JWKS_TIMEOUT_S  # connect, then read; no retries
    assert jwks_fetch_worst_case_s < _timeout(name, stage, "jwt_auth")


def test_the_worst_cases_are_what_the_docs_say() -> None:
    # docs/operations.md quotes these figures; a change of a setting shows here.
    assert dynamodb_call_worst_case_s() == 19.0
    assert request_worst_case_s("profile") == 25.0


class _CountingClient:
    """A DynamoDB client that answers every call with an empty item, and counts them."""

    def __init__(self) -> None:
        self.calls = 0

    def get_item(self, **_: Any) -> dict[str, Any]:
        self.calls += 1
        return {"Item": {"pk": {"S": "x"}}}


def test_no_dynamodb_call_starts_once_the_requests_budget_is_spent() -> None:
    now = [0.0]
    client = _CountingClient()
    table = dynamo.Table(client, "any")
    deadline.start(budget_s=5.0, clock=lambda: now[0])
    try:
        table.get({"pk": "x"})
        now[0] = 5.0
        with pytest.raises(dynamo.StoreUnavailableError):
            table.get({"pk": "x"})
    finally:
        deadline.clear()

    assert client.calls == 1
    table.get({"pk": "x"})  # outside a request: no budget
    assert client.calls == 2

"""Correlation ids: taken from the caller or made up, answered, logged on every line, passed on."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from servicekit import metrics, observability
from tests.profile.conftest import cold_start, get
from tests.profile.upstream import FakeUpstream
from tests.support import services
from tests.support.output import log_lines
from tests.support.threads import at_once

HEADER = "X-Correlation-Id"


@pytest.fixture(autouse=True)
def _fresh_logger() -> None:
    """Each service process builds its own logger; the three apps of this test process share the module."""
    observability.logger.reset()
    metrics.base_dimensions.reset()


@pytest.fixture
def stored(profile: Any, upstream: FakeUpstream, user_id: str, existing: dict[str, Any]) -> str:
    """A user with a profile and a location."""
    upstream.location(user_id)
    return user_id


@pytest.mark.parametrize("name", services.SERVICES)
def test_every_answer_carries_a_new_correlation_id_when_the_caller_sent_none(name: str) -> None:
    with services.load(name).client() as client:
        first = client.http.get("/health")
        second = client.http.get("/health")

    assert uuid.UUID(first.headers[HEADER])
    assert first.headers[HEADER] != second.headers[HEADER]


@pytest.mark.parametrize(
    "incoming",
    ["3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b", "1-5759e988-bd862e3fe1be46a994272793", "a", "x" * 64, "web:42.a_b"],
)
def test_a_valid_incoming_correlation_id_is_answered_as_it_came(incoming: str) -> None:
    with services.load("location").client() as client:
        response = client.http.get("/health", headers={HEADER: incoming})

    assert response.headers[HEADER] == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        pytest.param("x" * 65, id="too long"),
        pytest.param("", id="empty"),
        pytest.param("abc def", id="a space"),
        pytest.param('abc","level":"ERROR', id="JSON injection"),
        pytest.param("-leading-dash", id="not starting with a letter or digit"),
        pytest.param("é-accent", id="not ASCII"),
    ],
)
def test_an_invalid_incoming_correlation_id_is_replaced_and_never_logged(
    incoming: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with services.load("location").client() as client:
        response = client.http.get("/health", headers={HEADER: incoming})

    output = capsys.readouterr().out
    assert uuid.UUID(response.headers[HEADER])
    lines = log_lines(output)
    assert {line["correlation_id"] for line in lines} == {response.headers[HEADER]}
    assert any(line["message"] == f"replaced an invalid {HEADER}" and line["length"] == len(incoming) for line in lines)
    if incoming:
        assert incoming not in output
        assert json.dumps(incoming)[1:-1] not in output


def test_the_profile_service_passes_the_id_on_to_the_location_and_auth_services(
    profile: Any, upstream: FakeUpstream, stored: str
) -> None:
    cold_start()
    upstream.correlation_ids.clear()

    response = profile.http.get(f"/profiles/{stored}", headers={HEADER: "journey-42"})

    assert response.headers[HEADER] == "journey-42"
    assert upstream.correlation_ids == [("/token", "journey-42"), (f"/locations/{stored}", "journey-42")]


def test_concurrent_reads_each_pass_on_their_own_id(profile: Any, upstream: FakeUpstream, stored: str) -> None:
    get(profile, stored)  # the token is cached now
    upstream.correlation_ids.clear()

    at_once(6, lambda n: profile.http.get(f"/profiles/{stored}", headers={HEADER: f"read-{n}"}))

    assert sorted(upstream.correlation_ids) == sorted((f"/locations/{stored}", f"read-{n}") for n in range(6))


def test_every_log_line_of_a_request_carries_its_id_the_lookup_threads_included(
    profile: Any, upstream: FakeUpstream, stored: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a location service that fails, so the lookup thread logs a warning
    upstream.location_mode = "error"
    capsys.readouterr()

    profile.http.get(f"/profiles/{stored}", headers={HEADER: "journey-43"})

    lines = log_lines(capsys.readouterr().out)
    messages = [line["message"] for line in lines]
    assert "request" in messages
    assert "the location service answered 500" in messages
    assert {line["correlation_id"] for line in lines} == {"journey-43"}


def test_a_request_after_another_does_not_inherit_its_id(capsys: pytest.CaptureFixture[str]) -> None:
    with services.load("location").client() as client:
        client.http.get("/health", headers={HEADER: "first"})
        second = client.http.get("/health")

    lines = log_lines(capsys.readouterr().out)
    assert [line["correlation_id"] for line in lines] == ["first", second.headers[HEADER]]


def test_api_gateways_request_id_stays_beside_the_correlation_id(capsys: pytest.CaptureFixture[str]) -> None:
    # GIVEN the event API Gateway sends Lambda for GET /health
    event = {
        "resource": "/health",
        "path": "/health",
        "httpMethod": "GET",
        "headers": {HEADER: "journey-44"},
        "multiValueHeaders": {HEADER: ["journey-44"]},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/health",
            "httpMethod": "GET",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "stage": "api",
        },
        "body": None,
        "isBase64Encoded": False,
    }
    service = services.load("location")

    with service.environment():
        answer = service.app(event, None)

    (line,) = log_lines(capsys.readouterr().out)
    assert answer["headers"][HEADER] == "journey-44"
    assert line["correlation_id"] == "journey-44"
    assert line["request_id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_in_lambda_the_invocations_trace_header_goes_on_so_the_trace_continues(
    profile: Any, upstream: FakeUpstream, stored: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the variable Lambda sets for each invocation when tracing is active
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    monkeypatch.setenv("_X_AMZN_TRACE_ID", trace)
    cold_start()
    upstream.trace_ids.clear()

    get(profile, stored)

    assert upstream.trace_ids == [trace, trace]  # the token fetch and the location read


def test_outside_lambda_no_trace_header_is_sent(profile: Any, upstream: FakeUpstream, stored: str) -> None:
    upstream.trace_ids.clear()

    get(profile, stored)

    assert upstream.trace_ids and set(upstream.trace_ids) == {None}


def test_a_metric_counted_during_a_request_carries_its_correlation_id(
    profile: Any, stored: str, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()

    profile.http.get(f"/profiles/{stored}", headers={HEADER: "journey-45"})

    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert emf and {line["correlation_id"] for line in emf} == {"journey-45"}


@pytest.mark.parametrize("name", services.SERVICES)
def test_the_access_log_line_carries_powertools_lambda_context_fields(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a service's first request, then a second, each with its Lambda context
    with services.load(name).client() as client:
        client.http.get("/health")
        client.http.get("/health")
    first, second = [line for line in log_lines(capsys.readouterr().out) if line.get("message") == "request"]

    # THEN each line has what Powertools' inject_lambda_context adds, as its users know it
    for line in (first, second):
        assert {"cold_start", "function_name", "function_memory_size", "function_request_id"} <= set(line)
        assert line["function_name"]
    assert first["function_request_id"] != second["function_request_id"]

"""Schemathesis against the running stack: generated requests for every documented route.

Each service's own /openapi.json drives the generation; the requests go out as a real
user about their own resources, so generated bodies get past the authorizer and the
ownership check into validation and storage. Whatever is sent, the answer is never a 5xx.
Both of schemathesis' modes run: positive (bodies the schema allows) and negative
(bodies it forbids). Bounded: 25 examples per operation and mode, derandomized,
all to 127.0.0.1, from a loopback address of the test's own.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from tests.e2e.api import Api
from tests.support import addresses
from tools.localstack import LocalStack
from tools.registry import SERVICES

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
@pytest.mark.parametrize("service", SERVICES)
def test_generated_requests_never_get_a_server_error(
    stack: LocalStack, api: Api, service: str, mode: GenerationMode
) -> None:
    user = api.new_user("fuzzer")
    # A caller of its own: the generated registrations and logins spend this address's budget.
    session = addresses.session_from(addresses.fresh())
    session.trust_env = False
    schema = schemathesis.openapi.from_url(f"{stack.urls[service]}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations

    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not operation.body:
            continue  # no body: a path's string id has no invalid value to generate

        @FUZZ
        @given(case=operation.as_strategy(generation_mode=mode))
        def call(case: Any) -> None:
            if case.path_parameters and "user_id" in case.path_parameters:
                case.path_parameters["user_id"] = user.user_id
            case.call_and_validate(session=session, headers=user.auth, checks=[not_a_server_error], timeout=5)

        call()

"""Schemathesis against the running stack: generated requests for every documented route.

Each service's own /openapi.json drives the generation; the requests go out as a real
user about their own resources (the bearer token on the routes that take one), so
generated bodies get past the authorizer and the ownership check into validation and
storage. Whatever is sent, the answer is never a 5xx. Both of schemathesis' modes run:
positive (requests the document allows), where no request may be refused as invalid
either, and negative (requests it forbids). Bounded: 25 examples per operation and mode,
derandomized, all to 127.0.0.1, from a loopback address of the test's own.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import CheckContext, not_a_server_error
from schemathesis.generation import GenerationMode

from tests.e2e.api import TIMEOUT_S, Api
from tests.support import addresses
from tools.localstack import LocalStack
from tools.registry import SERVICES

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e-generated")]

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
# The answers that refuse a request as malformed. Others are answers about the world, not the
# request's shape, and a request the document allows may get them: 404 (no such profile),
# 409 (the username is taken), 412 (another version), 429, and RFC 6749's invalid_grant or
# invalid_client for credentials that are well formed but wrong.
MALFORMED = (400, 413, 415, 422)
OAUTH_MALFORMED = "invalid_request"
# Registration's refusals of a password's content that no schema can state: a list of
# common passwords (and the patterns of one), and blankness after Unicode normalisation.
# Like 409, they are about the world, not the request's shape (docs/api.md).
PASSWORD_REFUSALS = ("commonly used", "only spaces")
# The login pages' refusals about the world: a client or redirect URI that is not registered,
# a login page's request that does not exist (or expired).
PAGE_REFUSALS = ("is not registered", "has expired")


def accepts_what_the_document_allows(ctx: CheckContext, response: Any, case: Any) -> bool | None:
    """A request the document allows is never refused as malformed: no "schema-valid request rejected"."""
    if response.status_code not in MALFORMED:
        return None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.status_code == 400 and isinstance(body, dict) and body.get("error", OAUTH_MALFORMED) != OAUTH_MALFORMED:
        return None
    if response.status_code == 400 and response.text.startswith("<!doctype html>"):
        if any(refusal in response.text for refusal in PAGE_REFUSALS):
            return None
    message = body.get("Message", "") if isinstance(body, dict) else ""
    if response.status_code == 400 and any(refusal in message for refusal in PASSWORD_REFUSALS):
        return None
    raise AssertionError(f"{case.method} {case.formatted_path} refused a request its document allows: {response.text}")


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

    checks = [not_a_server_error]
    if mode is GenerationMode.POSITIVE:
        checks.append(accepts_what_the_document_allows)
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and not operation.body:
            continue  # no body: a path's string id has no invalid value to generate
        bearer = any("bearer" in need for need in operation.definition.raw.get("security", []))
        _fuzz(operation, mode, user.auth if bearer else {}, user.user_id, checks, session)


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    headers: dict[str, str],
    user_id: str,
    checks: list[Any],
    session: requests.Session,
) -> None:
    @FUZZ
    @given(case=operation.as_strategy(generation_mode=mode))
    def call(case: Any) -> None:
        if case.path_parameters and "user_id" in case.path_parameters:
            case.path_parameters["user_id"] = user_id
        case.call_and_validate(session=session, headers=headers, checks=checks, timeout=TIMEOUT_S)

    call()

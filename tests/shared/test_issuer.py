"""The tokens' issuer: the auth service's URL, given directly or through the parameter its stack writes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from servicekit import env, parameters

URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/api"


@pytest.fixture(autouse=True)
def deployed_stage(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.delenv("TOKEN_ISSUER", raising=False)
    monkeypatch.delenv("AUTH_URL", raising=False)
    with mock_aws():
        yield


def test_without_an_issuer_of_its_own_a_service_expects_the_auth_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_URL", URL + "/")  # as CloudFormation exports Chalice's EndpointURL

    assert env.token_issuer() == URL


def test_the_auth_service_reads_its_url_from_the_parameter_its_stack_wrote(monkeypatch: pytest.MonkeyPatch) -> None:
    parameters.write("ssm:/profiles/prod/auth/url", URL + "/")
    monkeypatch.setenv("TOKEN_ISSUER", "ssm:/profiles/prod/auth/url")

    assert env.token_issuer() == URL


def test_an_issuer_given_as_a_url_is_taken_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_ISSUER", "https://auth.example.com")
    monkeypatch.setenv("AUTH_URL", URL)

    assert env.token_issuer() == "https://auth.example.com"


def test_a_missing_parameter_fails_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_ISSUER", "ssm:/profiles/prod/auth/url")

    with pytest.raises(parameters.ParameterNotFoundError, match="/profiles/prod/auth/url"):
        env.token_issuer()

"""The tokens' issuer: the auth service's URL, given, read from its stack's parameter, or known from the request."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from servicekit import parameters
from servicekit.authorizer import api_url

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

    assert parameters.token_issuer() == URL


def test_the_auth_service_reads_its_url_from_the_parameter_its_stack_wrote(monkeypatch: pytest.MonkeyPatch) -> None:
    parameters.write("ssm:/profiles/prod/auth/url", URL + "/")
    monkeypatch.setenv("TOKEN_ISSUER", "ssm:/profiles/prod/auth/url")

    assert parameters.token_issuer() == URL


def test_an_issuer_given_as_a_url_is_taken_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_ISSUER", "https://auth.example.com")
    monkeypatch.setenv("AUTH_URL", URL)

    assert parameters.token_issuer() == "https://auth.example.com"


def test_a_missing_parameter_fails_with_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_ISSUER", "ssm:/profiles/prod/auth/url")

    with pytest.raises(parameters.ParameterNotFoundError, match="/profiles/prod/auth/url"):
        parameters.token_issuer()


def test_the_own_api_s_url_stands_for_the_parameter_that_holds_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # No parameter exists: were it read, ParameterNotFoundError.
    monkeypatch.setenv("TOKEN_ISSUER", "ssm:/profiles/prod/auth/url")

    assert parameters.token_issuer(own_api_url=URL) == URL


def test_the_own_api_s_url_never_replaces_an_issuer_given_as_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    # A custom domain: the API's default URL is not the issuer.
    monkeypatch.setenv("TOKEN_ISSUER", "https://auth.example.com")

    assert parameters.token_issuer(own_api_url=URL) == "https://auth.example.com"


def test_nor_the_auth_url_of_a_service_that_is_not_the_issuer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTH_URL", URL)

    assert parameters.token_issuer(own_api_url="https://location.execute-api.eu-west-1.amazonaws.com/api") == URL


@pytest.mark.parametrize(
    ("method_arn", "url"),
    [
        pytest.param(
            "arn:aws:execute-api:eu-west-1:123456789012:abc123/api/GET/users/me",
            "https://abc123.execute-api.eu-west-1.amazonaws.com/api",
            id="aws",
        ),
        pytest.param(
            "arn:aws-cn:execute-api:cn-north-1:123456789012:abc123/api/POST/users/me/erasure",
            "https://abc123.execute-api.cn-north-1.amazonaws.com.cn/api",
            id="aws-cn",
        ),
        pytest.param("arn:aws:execute-api:eu-west-1:123456789012:abc123/api/GET/", URL, id="root route"),
        pytest.param("arn:aws-iso:execute-api:us-iso-east-1:1:abc123/api/GET/x", None, id="unknown partition"),
        pytest.param("arn:aws:lambda:eu-west-1:123456789012:function:f", None, id="not an API"),
        pytest.param("arn:aws:execute-api:eu-west-1:123456789012:abc123", None, id="no stage"),
        pytest.param("", None, id="empty"),
    ],
)
def test_an_authorizer_knows_its_api_s_url_from_the_method_arn(method_arn: str, url: str | None) -> None:
    assert api_url(method_arn) == url

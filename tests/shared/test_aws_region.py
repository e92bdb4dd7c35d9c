"""The AWS region, looked up in one place for every client the services and tools make."""

from __future__ import annotations

import pytest

from servicekit import aws, env


@pytest.fixture(autouse=True)
def no_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)


def test_lambdas_aws_region_wins_over_the_default_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-2")

    assert aws.region() == "eu-west-1"


def test_without_aws_region_the_default_region_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-2")

    assert aws.region() == "us-east-2"


def test_the_local_stage_has_a_region_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STAGE", "local")

    assert aws.region() == env.LOCAL_REGION


def test_a_deployed_stage_without_a_region_leaves_it_to_boto3() -> None:
    assert aws.region() is None

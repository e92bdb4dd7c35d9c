"""Fixtures shared by every test: moto's DynamoDB with the three tables, keys, the apps."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from servicekit import dynamo
from servicekit.authorizer import verifier
from servicekit.lazy import Lazy
from servicekit.tokens import KeySet, TokenVerifier
from tests.profile.upstream import CLIENT_SECRET, FakeUpstream
from tests.support import services
from tests.support.dynamodb import AtomicClient
from tests.support.tokens import AUDIENCE, ISSUER
from tools import tables

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _restore_environ() -> Iterator[None]:
    """Put the process's ``os.environ`` object back after every test.

    chalice.test.Client replaces ``os.environ`` with a copy for each request and puts
    back whatever it found, without a lock: requests from several threads can leave a
    stage's copy installed, which would leak into later tests.
    """
    original = os.environ
    yield
    os.environ = original  # noqa: B003 - restoring the very object, as chalice.test does


@pytest.fixture(autouse=True)
def _aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # Never reach a real AWS account from a test, whatever the developer's profile says.
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


@pytest.fixture(scope="session")
def key_ring() -> Any:
    """The key ring every test signs with (the auth service's, in tests)."""
    return services.load("auth").module("keys").KeyRing.generate()


@pytest.fixture(scope="session")
def boto_session() -> boto3.session.Session:
    """One boto3 session per test process: it loads botocore's models and endpoints once.

    A client from a fresh session (``boto3.client``) costs ~0.1 s of JSON parsing, on
    every test; moto's mock intercepts requests of any session, so sharing this one is safe.
    """
    return boto3.session.Session(region_name=REGION)


@pytest.fixture
def aws(key_ring: Any, boto_session: boto3.session.Session) -> Iterator[Any]:
    """moto's DynamoDB with the three tables; every lazy accessor starts fresh."""
    with mock_aws():
        client = boto_session.client("dynamodb", region_name=REGION)
        for name in services.SERVICES:
            tables.create(client, services.table_name(name), services.ROOT / f"{name}-service" / "resources.json")
        Lazy.reset_all()
        dynamo.dynamodb.override(AtomicClient(client))
        services.load("auth").module("keys").key_ring.override(key_ring)
        verifier.override(TokenVerifier(KeySet(key_ring.jwks), issuer=ISSUER, audience=AUDIENCE))
        yield client
    Lazy.reset_all()


@pytest.fixture
def plumbing(aws: Any, boto_session: boto3.session.Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Under moto: the UserErased topic, each subscriber's queues; the publisher is told the topic."""
    from tests.support.events import plumbing as make

    made = make(boto_session, REGION)
    monkeypatch.setenv("EVENTS_TOPIC_ARN", made.topic_arn)
    return made


@pytest.fixture
def dynamodb_calls(aws: Any) -> list[str]:
    """The name of every DynamoDB operation the services call from now on, in order.

    Counted through botocore's event hooks on the client the services use, so every
    request that would reach DynamoDB is seen, whichever code path made it.
    """
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    aws.meta.events.register("before-call.dynamodb.*", record)
    return calls


@pytest.fixture
def auth(aws: Any) -> Iterator[Any]:
    """A test client of the auth service."""
    with services.load("auth").client() as client:
        yield client


@pytest.fixture
def apps(aws: Any, key_ring: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """A test client of each service by name; the profile service's peers are a real local server."""
    upstream = FakeUpstream().start()
    secret = tmp_path / "profile-client-secret"
    secret.write_text(CLIENT_SECRET)
    monkeypatch.setenv("AUTH_URL", upstream.url)
    monkeypatch.setenv("LOCATION_URL", upstream.url)
    monkeypatch.setenv("CLIENT_SECRET", f"file:{secret}")
    try:
        with contextlib.ExitStack() as clients:
            yield {name: clients.enter_context(services.load(name).client()) for name in services.SERVICES}
    finally:
        upstream.stop()


# How many end-to-end responses were checked against their service's OpenAPI document
# (tests/e2e/api.py), summed over the xdist workers and shown at the end of the run.
_checked_by_workers: list[int] = []


def _checked_here() -> int:
    module = sys.modules.get("tests.e2e.api")  # imported only when end-to-end tests ran
    return module.check_against_document.checked if module else 0  # type: ignore[no-any-return]


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["responses_checked"] = _checked_here()


def pytest_testnodedown(node: Any, error: Any) -> None:
    _checked_by_workers.append(node.workeroutput.get("responses_checked", 0))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    total = _checked_here() + sum(_checked_by_workers)
    if total:
        terminalreporter.write_line(f"end-to-end responses checked against their service's OpenAPI document: {total}")


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto``: one worker more than the machine has cores.

    Much of the suite waits: on its local stacks' processes, moto's server, generators and
    compilers it runs; two workers kept two cores about three quarters busy. Measured on a
    quiet 2-core machine on 2026-12-05, pytest's own times of the whole suite: 2 workers
    159 s, 3 workers 140 s, 4 workers 146 s.
    """
    return (os.cpu_count() or 1) + 1

"""What the deployment tests check: the packaged templates, the code they deploy, a fake AWS.

``chalice package`` of each service for the ``prod`` stage, with its merge template, runs
once per test session (the three side by side, into a temporary folder): it imports each
``app.py`` and downloads the requirements' wheels from PyPI, and needs a region but no
credentials. Deployment itself cannot be faked (moto has no SAM transform and refuses
Chalice's Swagger), so the tests read the templates instead.
"""

from __future__ import annotations

import ast
import json
import logging
import os
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import services
from tools import infra, registry

STAGE = "prod"
PACKAGE_TIMEOUT_S = 240
BIN = Path(sys.executable).parent

# What each servicekit.dynamo.Table method asks DynamoDB for: the IAM actions it needs
# and the operation it is published under in CloudWatch (None: part of a transaction).
TABLE_CALLS: dict[str, tuple[str, str | None]] = {
    "get": ("dynamodb:GetItem", "GetItem"),
    "put": ("dynamodb:PutItem", "PutItem"),
    "update": ("dynamodb:UpdateItem", "UpdateItem"),
    "update_with": ("dynamodb:UpdateItem", "UpdateItem"),
    "delete": ("dynamodb:DeleteItem", "DeleteItem"),
    "delete_op": ("dynamodb:DeleteItem", None),
    "put_op": ("dynamodb:PutItem", None),
    "update_op": ("dynamodb:UpdateItem", None),
    "check_op": ("dynamodb:ConditionCheckItem", None),
}
TRANSACT = "transact"


@dataclass(frozen=True)
class Packaged:
    """One service as ``chalice package`` made it."""

    name: str
    folder: Path
    template: dict[str, Any]
    zip_path: Path

    @property
    def resources(self) -> dict[str, Any]:
        return self.template["Resources"]  # type: ignore[no-any-return]

    def of_type(self, kind: str) -> dict[str, Any]:
        """The resources of one CloudFormation type, by logical id."""
        return {name: r for name, r in self.resources.items() if r.get("Type") == kind}

    def zip_names(self) -> list[str]:
        with zipfile.ZipFile(self.zip_path) as archive:
            return archive.namelist()


def _package_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_DEFAULT_REGION"] = "us-east-1"  # chalice package needs a region, never credentials
    return env


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Packaged]:
    """Each service packaged for prod with its merge template, by service name."""
    out = tmp_path_factory.mktemp("packaged")
    chalice = str(BIN / "chalice")
    runs = {}
    for name in services.SERVICES:
        folder = services.ROOT / f"{name}-service"
        log = (out / f"{name}.log").open("w")
        command = [chalice, "package", "--stage", STAGE, "--merge-template", "resources.json", str(out / name)]
        runs[name] = (subprocess.Popen(command, cwd=folder, env=_package_env(), stdout=log, stderr=log), log)
    result = {}
    for name, (process, log) in runs.items():
        code = process.wait(timeout=PACKAGE_TIMEOUT_S)
        log.close()
        assert code == 0, (out / f"{name}.log").read_text()
        result[name] = Packaged(
            name=name,
            folder=services.ROOT / f"{name}-service",
            template=json.loads((out / name / "sam.json").read_text()),
            zip_path=out / name / "deployment.zip",
        )
    return result


def merge_template(name: str) -> dict[str, Any]:
    """The service's resources.json."""
    return json.loads((services.ROOT / f"{name}-service" / "resources.json").read_text())  # type: ignore[no-any-return]


def policy_files(name: str) -> list[str]:
    """The names of the policy files the service's .chalice/config.json names."""
    return sorted(infra.policy_files(registry.service(name)))


def policy_file(name: str, file_name: str) -> dict[str, Any]:
    """A policy file of the service's .chalice folder."""
    path = services.ROOT / f"{name}-service" / ".chalice" / file_name
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def table_calls(name: str) -> list[str]:
    """The ``Table`` methods the service's code calls (``self._table.get(...)`` and the like)."""
    calls = []
    for path in sorted((services.ROOT / f"{name}-service" / "chalicelib").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            receiver = node.func.value
            receiver_name = receiver.attr if isinstance(receiver, ast.Attribute) else getattr(receiver, "id", "")
            if receiver_name.endswith("table") and (node.func.attr in TABLE_CALLS or node.func.attr == TRANSACT):
                calls.append(node.func.attr)
    return calls


def actions_used(name: str) -> set[str]:
    """The DynamoDB IAM actions the service's code needs."""
    return {TABLE_CALLS[call][0] for call in table_calls(name) if call in TABLE_CALLS}


def operations_used(name: str) -> set[str]:
    """The DynamoDB operations the service's code calls, as CloudWatch names them."""
    operations = {TABLE_CALLS[call][1] for call in table_calls(name) if call in TABLE_CALLS}
    if TRANSACT in table_calls(name):
        operations.add("TransactWriteItems")
    return {op for op in operations if op is not None}


def statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    """A policy document's statements, as a list."""
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# A fake AWS for the bootstrap: moto's server, so that tools.admin runs as a real command.


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """The address of a moto server on 127.0.0.1, one per test process (``fake_aws`` empties it for each test).

    The server loads each AWS service's backend on its first request to it: started once, the
    bootstrap, key and release tests pay that once, not once per module.
    """
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def fake_aws(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """An empty moto server; boto3 in this process and in tools.admin's talk to it."""
    import requests

    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10).raise_for_status()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.delenv("STAGE", raising=False)
    monkeypatch.delenv("TABLE_NAME", raising=False)
    yield moto_endpoint


def admin(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m tools.admin <args>``, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "tools.admin", *args],
        cwd=services.ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
    )

"""``python -m tools.new_service``: a fourth service, in a copy of the repository, proven real.

The copy is the working tree's (tests.support.repository); the commands run in it with
this virtual environment's Python, as a developer would run them there. Of the suite, the
copy runs only what concerns the new service (its own tests, and the suite's checks of
every service for it): the rest is the suite's own run. That the template keeps the shape
of the services is tests/test_service_shape.py's, with no copy at all.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.e2e.api import Api
from tests.e2e.cli import Cli
from tests.support import repository, services
from tools import new_service, registry
from tools.localstack import Ports, url

pytestmark = [pytest.mark.deploy, pytest.mark.xdist_group("new_service")]

NAME = services.unused_name()
BIN = Path(sys.executable).parent
TIMEOUT_S = 240


def _run(copy: Path, *command: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTEST_"))}
    env["AWS_DEFAULT_REGION"] = "us-east-1"  # chalice package needs a region, never credentials
    return subprocess.run(
        list(command), cwd=cwd or copy, env=env, capture_output=True, text=True, timeout=TIMEOUT_S, check=False
    )


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the repository with the service ``billing`` added by the one command."""
    root = repository.copy(tmp_path_factory.mktemp("new-service") / "repository")
    result = _run(root, sys.executable, "-m", "tools.new_service", NAME)
    assert result.returncode == 0, result.stdout + result.stderr
    (root.parent / "output.txt").write_text(result.stdout)
    yield root


def test_the_command_says_what_comes_next_its_port_variable_and_the_docs_tables(copy: Path) -> None:
    output = (copy.parent / "output.txt").read_text()
    port = registry.parse((copy / "services.toml").read_text()).services[NAME].port

    assert f"local port {port} ({NAME.upper()}_PORT moves it)" in output
    assert "`python -m tools.servicedocs` writes the docs' tables again" in output
    # No `make run` runs with the copy's state folder: nothing to say about one.
    assert "A `make run` is running" not in output


def test_the_command_writes_the_service_its_tests_and_its_registry_entry(copy: Path) -> None:
    service = copy / f"{NAME}-service"
    for name in ("app.py", "chalicelib/models.py", ".chalice/config.json", "requirements.txt", "resources.json"):
        assert (service / name).is_file(), name
    link = service / "vendor" / "servicekit"
    assert link.is_symlink() and not Path(os.readlink(link)).is_absolute()
    assert link.resolve() == (copy / "shared" / "servicekit").resolve()
    assert (copy / "tests" / NAME / "test_notes.py").is_file()
    assert (copy / "tests" / NAME / "test_erasure.py").is_file()  # its example consumer's tests
    entry = registry.parse((copy / "services.toml").read_text()).services[NAME]
    assert entry.port == new_service.next_port(registry.load())
    assert entry.calls == ("auth",)
    assert entry.subscribes == ("UserErased",)  # every new service honours erasure by default
    assert json.loads((service / ".chalice" / "config.json").read_text())["app_name"] == f"{NAME}-service"
    assert "scaffold" not in "".join(p.read_text() for p in service.rglob("*.py") if "vendor" not in p.parts)


def test_its_route_tests_and_the_suites_checks_of_every_service_pass_for_it(copy: Path) -> None:
    # Its own route tests, and the suite's tests that go through every service, run for it alone
    # (the other services' runs of them are the suite's own): loaded beside the others, a cold
    # start without boto3, its authorizer's handler, its shape, and the body fuzzing of its route.
    tests = [
        f"tests/{NAME}",
        "tests/test_apps.py::test_the_apps_load_side_by_side_each_with_its_own_modules",
        f"tests/test_apps.py::test_importing_an_app_loads_no_boto3_client_machinery_powertools_or_tracing_sdk[{NAME}]",
        f"tests/test_apps.py::test_the_authorizer_handler_chalice_deploys_exists_in_app_py[{NAME}]",
        f"tests/test_service_shape.py::test_every_app_is_made_by_servicekit_service[{NAME}]",
        f"tests/test_service_shape.py::test_no_store_raises_an_http_error[{NAME}]",
        "tests/test_body_fuzzing.py::test_no_body_gets_a_server_error[PUT /notes/{user_id}]",
    ]
    result = _run(
        copy, sys.executable, "-m", "pytest", "-q", "-rA", "-p", "no:randomly", "-p", "no:cacheprovider", *tests
    )

    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    passed = {line.split()[1].split("::")[0] for line in result.stdout.splitlines() if line.startswith("PASSED ")}
    assert {f"tests/{NAME}/test_notes.py", f"tests/{NAME}/test_erasure.py", "tests/test_body_fuzzing.py"} <= passed


def test_its_package_with_its_merge_template_passes_cfn_lint(copy: Path, tmp_path: Path) -> None:
    service = copy / f"{NAME}-service"
    packaged = _run(
        copy,
        str(BIN / "chalice"),
        "package",
        "--stage",
        "prod",
        "--merge-template",
        "resources.json",
        str(tmp_path / "out"),
        cwd=service,
    )
    assert packaged.returncode == 0, packaged.stdout + packaged.stderr
    template = json.loads((tmp_path / "out" / "sam.json").read_text())
    assert template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]["AUTH_URL"]
    assert {"EraseUser", "UserErasedQueue", "UserErasedDeadLetterQueue"} <= set(template["Resources"])

    lint = _run(copy, str(BIN / "cfn-lint"), str(tmp_path / "out" / "sam.json"))

    assert lint.returncode == 0, lint.stdout + lint.stderr


def test_the_pipeline_and_the_generated_files_include_it(copy: Path) -> None:
    for generator in ("tools.pipeline", "tools.infra", "tools.servicedocs"):
        result = _run(copy, sys.executable, "-m", generator, "--check")
        assert result.returncode == 0, f"{generator}: {result.stdout}{result.stderr}"
    assert f"{NAME}-service.yaml" in (copy / "buildspec.yml").read_text()
    assert f"{NAME}-service" in (copy / "pipeline.json").read_text()
    assert f"`{NAME}-service/`" in (copy / "README.md").read_text()


def test_the_local_stack_starts_it_with_the_others(copy: Path, tmp_path: Path) -> None:
    ports = Ports.free(["dynamodb", *registry.parse((copy / "services.toml").read_text()).services]).as_dict()
    env = {
        **os.environ,
        **{f"{name.upper()}_PORT": str(port) for name, port in ports.items()},
        "LOCAL_STATE_DIR": str(tmp_path / "state"),
    }
    runner = Cli(env, root=copy)
    try:
        runner.wait_for("Ready in", timeout=120)
        assert f"[ok] {NAME} service healthy at {url(ports[NAME])}" in runner.output

        # A real user's token from the auth service opens the new service's example route.
        user = Api({name: url(port) for name, port in ports.items()}).new_user("scaffolded")
        with requests.Session() as session:
            session.trust_env = False
            headers = {"Authorization": f"Bearer {user.access_token}"}
            put = session.put(f"{url(ports[NAME])}/notes/{user.user_id}", json={"text": "hi"}, headers=headers)
            got = session.get(f"{url(ports[NAME])}/notes/{user.user_id}", headers=headers)
            anonymous = session.get(f"{url(ports[NAME])}/notes/{user.user_id}")
        assert put.status_code == 200, put.text
        assert got.json()["text"] == "hi"
        assert anonymous.status_code == 401
    finally:
        runner.process.send_signal(signal.SIGINT)
        try:
            runner.finish(timeout=30)
        finally:
            runner.kill()


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        (registry.SERVICES[-1], f"there is a service {registry.SERVICES[-1]!r} already"),
        ("Billing", "not a valid service name"),
        ("bill-ing", "not a valid service name"),
        ("b", "not a valid service name"),
        ("dynamodb", "reserved"),
        ("e2e", "reserved"),
        ("class", "reserved"),
    ],
)
def test_a_name_that_exists_or_is_not_valid_is_refused_and_nothing_is_written(
    name: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (registry.ROOT / "services.toml").read_text()

    code = new_service.main([name])

    assert code == 2
    assert problem in capsys.readouterr().err
    assert (registry.ROOT / "services.toml").read_text() == before
    assert not (registry.ROOT / f"{name}-service").exists() or name in registry.SERVICES

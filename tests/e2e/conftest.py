"""The real local stack for the end-to-end tests, started by the same code as `make run`.

Each stack listens on free ports of 127.0.0.1 (so the tests run beside a developer's
`make run`), keeps its secrets and logs in its own temporary folder, and is stopped
afterwards whatever happens: ``LocalStack`` is a context manager that kills its
process groups.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest

from tests.e2e.api import Api, User
from tools.localstack import LocalStack, PortInUseError, Ports
from tools.registry import ROOT

StackFactory = Callable[[], LocalStack]

# The stacks running now, whose logs a failing test's report shows.
_running: list[LocalStack] = []


@contextlib.contextmanager
def running_stack(state_dir: Path) -> Iterator[LocalStack]:
    """A started stack on free ports; stopped on the way out, whatever happens."""
    progress = state_dir / "progress.log"
    for attempt in range(3):
        stack = LocalStack(Ports.free(), state_dir, progress=lambda line: _append(progress, line))
        try:
            stack.start()
        except PortInUseError:
            # Another process took one of the free ports between the check and the start.
            if attempt == 2:
                raise
            continue
        break
    _running.append(stack)
    try:
        yield stack
    finally:
        _running.remove(stack)
        stack.stop()


def _append(path: Path, line: str) -> None:
    with path.open("a") as log:
        log.write(line + "\n")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing end-to-end test's report ends with the last lines of each running service's log."""
    report: pytest.TestReport = yield
    if report.failed and _running:
        for stack in _running:
            for log in sorted(stack.logs_dir.glob("*.log")):
                lines = log.read_text(errors="replace").splitlines()[-15:]
                report.sections.append((f"local stack log {log}", "\n".join(lines)))
    return report


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The stack the journey tests share (they never stop any part of it)."""
    with running_stack(tmp_path_factory.mktemp("stack")) as started:
        yield started


@pytest.fixture
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackFactory]:
    """Start a stack of the test's own, for tests that stop parts of it."""
    with contextlib.ExitStack() as stacks:

        def start() -> LocalStack:
            return stacks.enter_context(running_stack(tmp_path_factory.mktemp("own-stack")))

        yield start


@pytest.fixture(scope="session")
def api(stack: LocalStack) -> Api:
    """An HTTP client of the shared stack."""
    return Api(stack.urls)


@pytest.fixture
def alice(api: Api) -> User:
    """A registered user, logged in."""
    return api.new_user("alice")


@pytest.fixture
def bob(api: Api) -> User:
    """Another registered user, logged in."""
    return api.new_user("bob")


@pytest.fixture
def plain_http_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the OAuth libraries speak http: the local stack has no TLS, and listens on 127.0.0.1 only."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # oauthlib (requests-oauthlib)
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # authlib, reading a redirect's code


def client_secret(stack: LocalStack) -> str:
    """The profile service's client secret, as the stack wrote it."""
    return Path(stack.secret("profile", "CLIENT_SECRET").removeprefix("file:")).read_text().strip()


def admin(stack: LocalStack, *arguments: str) -> subprocess.CompletedProcess[str]:
    """``python -m tools.admin ARGUMENTS --stage local`` against ``stack``, with only the variables `make run` took."""
    moved = {f"{name.upper()}_PORT": str(port) for name, port in stack.ports.as_dict().items()}
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "tools.admin", *arguments, "--stage", "local"],
        cwd=ROOT,
        env={**env, **moved, "LOCAL_STATE_DIR": str(stack.state_dir)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def register_public_client(stack: LocalStack, client_id: str, *redirect_uris: str) -> None:
    """Register a browser app with its redirect URIs, as the README says: the admin command, on this stack."""
    uris = [argument for uri in redirect_uris for argument in ("--redirect-uri", uri)]
    result = admin(stack, "create-client", client_id, "--public", *uris)
    assert result.returncode == 0, result.stderr

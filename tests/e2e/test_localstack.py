"""`make run`'s runner itself: clear failures, clean stops, and a service run alone the Chalice way."""

from __future__ import annotations

import itertools
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.e2e.api import Api
from tools.localstack import Ports, port_is_free, url
from tools.stages import ROOT

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

READY_TIMEOUT_S = 60.0
EXIT_TIMEOUT_S = 15.0


class Cli:
    """``python -m tools.localstack`` in a subprocess, its output read line by line."""

    def __init__(self, env: Mapping[str, str], *args: str) -> None:
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tools.localstack", *args],
            cwd=ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = READY_TIMEOUT_S) -> str:
        """The first line containing ``text``; fails with the output so far if it does not come."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.lines.append(line)
            if text in line:
                return line
        pytest.fail(f"no line with {text!r}; output:\n" + "\n".join(self.lines))

    def finish(self, timeout: float = EXIT_TIMEOUT_S) -> int:
        """Its exit code, once it has exited and its output is read."""
        code = self.process.wait(timeout=timeout)
        while (line := self._queue.get(timeout=5)) is not None:
            self.lines.append(line)
        return code

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def _cli_env(ports: Ports, state_dir: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DYNAMODB_PORT": str(ports.dynamodb),
        "AUTH_PORT": str(ports.auth),
        "LOCATION_PORT": str(ports.location),
        "PROFILE_PORT": str(ports.profile),
        "LOCAL_STATE_DIR": str(state_dir),
        **extra,
    }


def _processes_on(*ports: int) -> dict[int, str]:
    """Live processes started for any of ``ports`` (``--port N`` or ``-p N``), by pid."""
    wanted = {str(port) for port in ports}
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(a in ("--port", "-p") and b in wanted for a, b in itertools.pairwise(args)):
            found[int(entry.name)] = " ".join(args)
    return found


def _assert_nothing_left(ports: Ports) -> None:
    ours = ports.as_dict().values()
    deadline = time.monotonic() + EXIT_TIMEOUT_S
    while _processes_on(*ours) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_on(*ours) == {}
    assert all(port_is_free(port) for port in ports.as_dict().values())


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[tuple[Ports, Path, list[Cli]]]:
    """Free ports, a state folder, and every runner the test starts, killed if still running."""
    started: list[Cli] = []
    ports = Ports.free()
    yield ports, tmp_path, started
    for runner in started:
        runner.kill()
    _assert_nothing_left(ports)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_make_run_starts_everything_and_a_signal_stops_everything(
    cli: tuple[Ports, Path, list[Cli]], signum: int
) -> None:
    ports, state_dir, started = cli
    runner = Cli(_cli_env(ports, state_dir))
    started.append(runner)

    ready = runner.wait_for("Ready in")
    api = Api({"auth": url(ports.auth), "location": url(ports.location), "profile": url(ports.profile)})
    for service in ("auth", "location", "profile"):
        assert api.get(service, "/health").json() == {"status": "ok", "service": service}
    runner.process.send_signal(signum)

    assert runner.finish() == 0, runner.output
    assert "Stopped." in runner.output
    _assert_nothing_left(ports)
    # What it told the developer on the way up.
    assert float(ready.split("Ready in ")[1].split(" s")[0]) < READY_TIMEOUT_S
    for service, port in (("auth", ports.auth), ("location", ports.location), ("profile", ports.profile)):
        assert f"[ok] {service} service healthy at {url(port)}" in runner.output
    assert f"curl -s -X POST {url(ports.auth)}/users" in runner.output
    assert (state_dir / "signing-keys.json").stat().st_mode & 0o077 == 0
    assert (state_dir / "profile-client-secret").stat().st_mode & 0o077 == 0


def test_a_taken_port_is_named_and_nothing_starts(cli: tuple[Ports, Path, list[Cli]]) -> None:
    ports, state_dir, started = cli
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports.location))
        squatter.listen()
        runner = Cli(_cli_env(ports, state_dir))
        started.append(runner)

        code = runner.finish()

    assert code == 1
    assert f"port {ports.location} (location; set LOCATION_PORT to move it)" in runner.output
    assert "[ok] DynamoDB" not in runner.output


def test_a_failing_step_is_named_and_stops_what_was_started(cli: tuple[Ports, Path, list[Cli]]) -> None:
    # GIVEN an external DynamoDB that is not there: the services start, then the step fails
    ports, state_dir, started = cli
    env = _cli_env(ports, state_dir, AWS_ENDPOINT_URL_DYNAMODB=url(ports.dynamodb), STARTUP_TIMEOUT="2")
    runner = Cli(env)
    started.append(runner)

    code = runner.finish()

    assert code == 1
    assert f"step 'start DynamoDB': {url(ports.dynamodb)} is not reachable within 2 s" in runner.output
    assert "Everything it had started is stopped." in runner.output
    _assert_nothing_left(ports)


def test_a_service_that_dies_stops_the_whole_stack(cli: tuple[Ports, Path, list[Cli]]) -> None:
    ports, state_dir, started = cli
    runner = Cli(_cli_env(ports, state_dir))
    started.append(runner)
    runner.wait_for("Ready in")

    # WHEN the location service dies on its own
    (victim,) = _processes_on(ports.location)
    os.killpg(victim, signal.SIGKILL)

    assert runner.finish() == 1
    assert "location service exited with code -9; stopping everything" in runner.output
    _assert_nothing_left(ports)


def test_one_service_runs_alone_with_chalice_local_beside_the_rest(cli: tuple[Ports, Path, list[Cli]]) -> None:
    # GIVEN the stack without the location service
    ports, state_dir, started = cli
    runner = Cli(_cli_env(ports, state_dir), "--without", "location")
    started.append(runner)
    runner.wait_for("Ready in")
    assert "location http://127.0.0.1" in runner.output and "(not started: run it yourself)" in runner.output

    # WHEN the developer runs it the way Chalice users do (only the addresses differ from the defaults)
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL_DYNAMODB": url(ports.dynamodb),
        "AUTH_URL": url(ports.auth),
    }
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(name, None)
    chalice = Path(sys.executable).parent / "chalice"
    alone = subprocess.Popen(
        [str(chalice), "local", "--stage", "local", "--no-autoreload", "--port", str(ports.location)],
        cwd=ROOT / "location-service",
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        process_group=0,
    )
    try:
        api = Api({"auth": url(ports.auth), "location": url(ports.location), "profile": url(ports.profile)})
        _wait_healthy(api, "location")
        user = api.new_user("solo")
        location = {"latitude": 1.5, "longitude": 2.5}

        # THEN it serves the whole journey with the rest of the stack
        put = api.put("location", f"/locations/{user.user_id}", body=location, headers=user.auth)
        assert put.status_code == 200, put.text
        api.put("profile", f"/profiles/{user.user_id}", body={"display_name": "Solo"}, headers=user.auth)
        assert api.profile_with_location(user.user_id).json()["location_status"] == "ok"
    finally:
        os.killpg(alone.pid, signal.SIGTERM)
        alone.wait(timeout=10)
    runner.process.send_signal(signal.SIGINT)
    assert runner.finish() == 0


def _wait_healthy(api: Api, service: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if api.get(service, "/health", timeout=1).status_code == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"the {service} service did not become healthy within {timeout} s")

"""`make run`'s runner itself: clear failures, clean stops, a crashed service restarted by itself, and a service
run alone the Chalice way (a service falling, its restarts and the load: test_make_run_keeps_running.py)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.api import Api
from tests.e2e.cli import READY_TIMEOUT_S, Cli, assert_nothing_left, cli_env, processes_on, wait_healthy
from tools import registry, stages
from tools.localstack import LocalStack, Ports, url
from tools.registry import SERVICES
from tools.stages import ROOT

# Not in the "e2e" group: each test starts the runners it needs, never the shared stack, so
# xdist may run them on either worker.
pytestmark = [pytest.mark.e2e]


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[tuple[Ports, Path, list[Cli]]]:
    """Free ports, a state folder, and every runner the test starts, killed if still running."""
    started: list[Cli] = []
    ports = Ports.free()
    yield ports, tmp_path, started
    for runner in started:
        runner.kill()
    assert_nothing_left(ports)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_make_run_starts_everything_and_a_signal_stops_everything(
    cli: tuple[Ports, Path, list[Cli]], signum: int
) -> None:
    ports, state_dir, started = cli
    runner = Cli(cli_env(ports, state_dir))
    started.append(runner)

    ready = runner.wait_for("Ready in")
    api = Api({name: url(port) for name, port in ports.as_dict().items()})
    for service in SERVICES:
        assert api.get(service, "/health").json() == {"status": "ok", "service": service}
    runner.process.send_signal(signum)

    assert runner.finish() == 0, runner.output
    assert "Stopped." in runner.output
    assert_nothing_left(ports)
    # What it told the developer on the way up.
    assert float(ready.split("Ready in ")[1].split(" s")[0]) < READY_TIMEOUT_S
    for service in SERVICES:
        assert f"[ok] {service} service healthy at {url(ports[service])}" in runner.output
    # The README's session, addressed to these ports.
    assert f"-X POST {url(ports['auth'])}/users" in runner.output
    assert f"{url(ports['profile'])}/profiles/$ME" in runner.output
    assert "127.0.0.1:8001" not in runner.output
    assert (state_dir / "auth-signing-keys").stat().st_mode & 0o077 == 0
    assert (state_dir / "profile-client-secret").stat().st_mode & 0o077 == 0


def test_a_taken_port_is_named_and_nothing_starts(cli: tuple[Ports, Path, list[Cli]]) -> None:
    ports, state_dir, started = cli
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", ports["location"]))
        squatter.listen()
        runner = Cli(cli_env(ports, state_dir))
        started.append(runner)

        code = runner.finish()

    assert code == 1
    assert f"port {ports['location']} (location; set LOCATION_PORT to move it)" in runner.output
    assert "[ok] DynamoDB" not in runner.output


def test_a_failing_step_is_named_and_stops_what_was_started(cli: tuple[Ports, Path, list[Cli]]) -> None:
    # GIVEN an external DynamoDB that is not there: the services start, then the step fails
    ports, state_dir, started = cli
    env = cli_env(ports, state_dir, AWS_ENDPOINT_URL_DYNAMODB=url(ports.dynamodb), STARTUP_TIMEOUT="2")
    runner = Cli(env)
    started.append(runner)

    code = runner.finish()

    assert code == 1
    assert f"step 'start DynamoDB': {url(ports.dynamodb)} is not reachable within 2 s" in runner.output
    assert "Everything it had started is stopped." in runner.output
    assert_nothing_left(ports)


def test_auto_restart_brings_a_crashed_service_back_and_dynamodb_exiting_stops_everything(
    cli: tuple[Ports, Path, list[Cli]],
) -> None:
    # One stack for both behaviours: starting a stack is the slow part of these tests.
    ports, state_dir, started = cli
    runner = Cli(cli_env(ports, state_dir, AUTO_RESTART="1"))
    started.append(runner)
    runner.wait_for("Ready in")

    # WHEN the location service crashes
    (victim,) = processes_on(ports["location"])
    os.killpg(victim, signal.SIGKILL)

    # THEN it is reported, and back by itself after the first, short delay
    line = runner.wait_for("location service exited with code -9")
    assert "the rest keeps running" in line and "it restarts by itself in 1 s (AUTO_RESTART)" in line
    runner.wait_for("restarting the location service (auto-restart)")
    runner.wait_for(f"[ok] location service healthy at {url(ports['location'])}")
    assert set(processes_on(ports["location"])) - {victim}

    # WHEN DynamoDB exits: nothing can work without it
    (database,) = processes_on(ports.dynamodb)
    os.kill(database, signal.SIGKILL)

    # THEN everything stops, saying why
    assert runner.finish() == 1
    assert "DynamoDB (moto) exited with code -9; its last lines:" in runner.output
    assert f"(whole log: {state_dir / 'logs' / 'dynamodb.log'})" in runner.output
    assert "stopping everything" in runner.output
    assert_nothing_left(ports)


def test_one_service_runs_alone_with_chalice_local_beside_the_rest(cli: tuple[Ports, Path, list[Cli]]) -> None:
    # GIVEN the stack without the location service
    ports, state_dir, started = cli
    runner = Cli(cli_env(ports, state_dir), "--without", "location")
    started.append(runner)
    runner.wait_for("Ready in")
    assert "location http://127.0.0.1" in runner.output and "(not started: run it yourself, below)" in runner.output
    (command,) = [line.strip() for line in runner.lines if line.strip().startswith("cd location-service && ")]

    # WHEN the developer pastes the command it printed (`chalice local` as the stack runs it, with its settings)
    env = dict(os.environ)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_DYNAMODB"):
        env.pop(name, None)
    alone = subprocess.Popen(
        ["bash", "-c", command],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        process_group=0,
    )
    try:
        api = Api({"auth": url(ports["auth"]), "location": url(ports["location"]), "profile": url(ports["profile"])})
        wait_healthy(api, "location")
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


def test_each_service_is_handed_its_addresses_and_secrets_as_a_deployed_stage_would_be(tmp_path: Path) -> None:
    # GIVEN a stack (not started) with its own ports and state folder
    stack = LocalStack(Ports.free(), tmp_path)

    for name in stages.SERVICES:
        # WHEN it makes the environment of a service's process
        environment = stack.environment(name)

        # THEN the service needs no default that would make it look for the repository
        service = registry.service(name)
        assert environment["AWS_ENDPOINT_URL_DYNAMODB"] == stack.dynamodb_endpoint
        for callee in (*service.calls, name):
            assert environment[registry.service(callee).url_variable] == stack.urls[callee]
        for variable, parameter in service.secrets:
            assert environment[variable] == f"file:{tmp_path.resolve() / f'{name}-{parameter}'}"

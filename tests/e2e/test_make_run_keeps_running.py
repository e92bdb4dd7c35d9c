"""`make run` keeps running when a service falls, restarts one service alone, and takes a burst of clients.

The tests share one ``python -m tools.localstack``, started the way users start it, from a
temporary copy of the repository: the edit test changes a service's code there, never in
the working tree. Each test leaves every service running, so their order does not matter.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.e2e.api import PASSWORD, Api, User, unique_username
from tests.e2e.cli import Cli, assert_nothing_left, cli_env, processes_on
from tests.support import addresses, repository
from tests.support.threads import at_once
from tools.localstack import Ports, url
from tools.stages import SERVICES

# Their own group: they share the module's `make run`, never the session's shared stack.
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("make-run")]

BERLIN = {"latitude": 52.52, "longitude": 13.405, "city": "Berlin", "country": "DE"}
WRITERS = 100
# A restart takes 1 to 2 s on an idle 2-core machine; the suite runs beside other work.
RESTART_BOUND_S = 60.0
# 100 registrations hash 100 passwords with Argon2id (about 0.08 s of CPU each).
WRITE_TIMEOUT_S = 120.0
COMMAND_TIMEOUT_S = 90.0


@dataclass
class MakeRun:
    """The running `make run`, the copy of the repository it runs from, and a client of it."""

    runner: Cli
    root: Path
    ports: Ports
    api: Api

    def pids(self) -> dict[str, set[int]]:
        """The processes serving each service now."""
        return {service: set(processes_on(self.ports[service])) for service in SERVICES}


@pytest.fixture(scope="module")
def make_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MakeRun]:
    root = repository.copy(tmp_path_factory.mktemp("make-run") / "repository")
    ports = Ports.free()
    runner = Cli(cli_env(ports, root / ".local"), root=root)
    try:
        runner.wait_for("Ready in")
        yield MakeRun(runner, root, ports, Api({name: url(ports[name]) for name in SERVICES}))
        runner.process.send_signal(signal.SIGINT)
        assert runner.finish() == 0, runner.output
    finally:
        runner.kill()
    assert_nothing_left(ports)


def _documented_command(line: str) -> str:
    """The command between backquotes in one of `make run`'s lines."""
    return line.split("`")[-2]


def _eventually(check: Callable[[], bool], what: str, timeout: float = RESTART_BOUND_S) -> float:
    """Seconds until ``check()`` holds; fails after ``timeout``."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        try:
            if check():
                return time.monotonic() - began
        except requests.RequestException:
            pass
        time.sleep(0.05)
    pytest.fail(f"{what} did not happen within {timeout:.0f} s")


def test_a_stopped_service_leaves_the_others_answering_and_comes_back_as_documented(make_run: MakeRun) -> None:
    # GIVEN a user with a location and a profile
    api, runner = make_run.api, make_run.runner
    user = api.new_user("survivor")
    assert api.put("location", f"/locations/{user.user_id}", body=BERLIN, headers=user.auth).status_code == 200
    written = api.put(
        "profile", f"/profiles/{user.user_id}", body={"display_name": "Sur", "bio": "Here"}, headers=user.auth
    )
    assert written.status_code == 200, written.text
    before = make_run.pids()

    # WHEN the location service's process is stopped
    (victim,) = before["location"]
    os.kill(victim, signal.SIGTERM)

    # THEN one line says which, how, where its log is and how to bring it back
    line = make_run.runner.wait_for("location service exited with code -15")
    assert "the rest keeps running" in line
    assert f"Log: {make_run.root / '.local' / 'logs' / 'location.log'}" in line
    command = _documented_command(line)
    assert command.endswith(".venv/bin/python -m tools.localstack restart location")
    # and the others keep answering, the profile without its location
    assert api.get("auth", "/users/me", headers=user.auth).json()["user_id"] == user.user_id
    degraded = api.get("profile", f"/profiles/{user.user_id}")
    assert degraded.status_code == 200
    assert degraded.json()["location_status"] == "unavailable"
    assert degraded.json()["display_name"] == "Sur"
    assert make_run.pids()["location"] == set()

    # WHEN the developer runs the command it printed
    restarted = subprocess.run(
        ["bash", "-c", command],
        cwd=make_run.root,
        capture_output=True,
        text=True,
        timeout=COMMAND_TIMEOUT_S,
        check=False,
    )

    # THEN the location service is back, with everything written before
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert f"the location service is healthy again at {url(make_run.ports['location'])}" in restarted.stdout
    # (its first answers may still take longer than the profile service's 1 s budget: a new
    # process fetches the auth service's keys and opens its connections)
    _eventually(lambda: api.get("profile", f"/profiles/{user.user_id}").json()["location_status"] == "ok", '"ok"')
    profile = api.get("profile", f"/profiles/{user.user_id}").json()
    assert {key: profile["location"][key] for key in BERLIN} == BERLIN
    assert (profile["display_name"], profile["bio"], profile["version"]) == ("Sur", "Here", written.json()["version"])
    assert api.login(user.username).status_code == 200
    after = make_run.pids()
    assert (after["auth"], after["profile"]) == (before["auth"], before["profile"])
    runner.wait_for("[ok] location service healthy")


def test_an_edit_to_a_service_is_served_after_its_restart_and_no_other_service_restarts(
    make_run: MakeRun,
) -> None:
    # GIVEN the running stack, and text of the location service's models that its OpenAPI document shows
    api = make_run.api
    models = make_run.root / "location-service" / "chalicelib" / "models.py"
    original = "Degrees north (WGS 84)."
    assert original in models.read_text(), "the test's anchor moved: pick another text of models.py"
    edited = f"Degrees north (WGS 84), edited {uuid.uuid4().hex}."
    before = make_run.pids()

    # WHEN the developer saves an edit (in the copy of the repository the stack runs from)
    began = time.monotonic()
    models.write_text(models.read_text().replace(original, edited))

    # THEN the service answers with the edit after its restart
    elapsed = _eventually(lambda: edited in api.get("location", "/openapi.json", timeout=2).text, "serving the edit")
    print(f"\nfrom the edit to the edited location service answering: {time.monotonic() - began:.2f} s")
    assert elapsed < RESTART_BOUND_S
    make_run.runner.wait_for("restarting the location service (chalicelib/models.py changed)")
    after = make_run.pids()
    assert after["location"] and after["location"].isdisjoint(before["location"])
    assert (after["auth"], after["profile"]) == (before["auth"], before["profile"])
    assert not any(f"restarting the {name} service" in make_run.runner.output for name in ("auth", "profile"))


def _write_at_once(send: Callable[[requests.Session, int], requests.Response]) -> tuple[list[str], float]:
    """``send`` from WRITERS threads at the same instant, each on a connection of its own: failures, slowest."""

    def one(index: int) -> tuple[str, float]:
        began = time.perf_counter()
        # Each writer is a caller of its own, as a hundred people are: one address would
        # spend its budget of expensive requests (30 registrations a minute) at once.
        with addresses.session_from(addresses.fresh()) as session:
            session.trust_env = False
            try:
                response = send(session, index)
            except requests.RequestException as exc:
                return f"{type(exc).__name__}: {exc}", time.perf_counter() - began
        failure = "" if response.ok else f"{response.status_code}: {response.text[:200]}"
        return failure, time.perf_counter() - began

    results = at_once(WRITERS, one)
    return [failure for failure, _ in results if failure], max(elapsed for _, elapsed in results)


def test_a_hundred_concurrent_writers_on_each_service_are_all_answered(make_run: MakeRun) -> None:
    urls = make_run.api.urls
    owner: User = make_run.api.new_user("crowd")
    created = make_run.api.put(
        "profile", f"/profiles/{owner.user_id}", body={"display_name": "Crowd"}, headers=owner.auth
    )
    assert created.status_code == 200, created.text
    json_headers = {**owner.auth, "Content-Type": "application/json"}

    # WHEN 100 clients write to each service at the same instant (the auth service last: its
    # writes are transactions, which moto answers slowest, and they must not delay the others)
    slowest = {}
    locations, slowest["location"] = _write_at_once(
        lambda session, i: session.put(
            f"{urls['location']}/locations/{owner.user_id}",
            json={"latitude": i / 10, "longitude": 13.405},
            headers=json_headers,
            timeout=WRITE_TIMEOUT_S,
        )
    )
    profiles, slowest["profile"] = _write_at_once(
        lambda session, i: session.put(
            f"{urls['profile']}/profiles/{owner.user_id}",
            json={"display_name": f"Crowd {i}"},
            headers=json_headers,
            timeout=WRITE_TIMEOUT_S,
        )
    )
    registrations, slowest["auth"] = _write_at_once(
        lambda session, i: session.post(
            f"{urls['auth']}/users",
            json={"username": unique_username(f"crowd{i}"), "password": PASSWORD},
            timeout=WRITE_TIMEOUT_S,
        )
    )
    print(f"\nslowest of {WRITERS} concurrent writes: " + ", ".join(f"{k} {v:.2f} s" for k, v in slowest.items()))

    # THEN every one of them was answered with success, and each write to the profile counted
    # once (the local DynamoDB is given a read timeout long enough for 100 writes in a row:
    # a timed-out write that moto still applies would be counted twice by botocore's retry)
    assert locations == [] and profiles == []
    grew = make_run.api.get("profile", f"/profiles/{owner.user_id}").json()["version"] - created.json()["version"]
    assert grew == WRITERS
    assert registrations == []

"""One correlation id, followed through the running services' logs, as a developer would with `make run`."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.api import Api, User
from tools.localstack import LocalStack
from tools.registry import SERVICES

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]

HEADER = "X-Correlation-Id"
# Lines reach the log files through a reader thread: a moment after the answer.
LOG_WAIT_S = 10.0


def _lines_of(log: Path, correlation_id: str) -> list[dict[str, Any]]:
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and correlation_id in line:
            document = json.loads(line)
            if document.get("correlation_id") == correlation_id:
                found.append(document)
    return found


def _eventually(condition: Callable[[], Any]) -> Any:
    deadline = time.monotonic() + LOG_WAIT_S
    while not (result := condition()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return result


def test_one_correlation_id_follows_a_profile_read_from_the_profile_log_into_the_location_log(
    api: Api, stack: LocalStack, alice: User
) -> None:
    # GIVEN alice has a location and a profile
    location = {"latitude": 52.52, "longitude": 13.405, "city": "Berlin", "country": "DE"}
    assert api.put("location", f"/locations/{alice.user_id}", body=location, headers=alice.auth).status_code == 200
    assert api.put("profile", f"/profiles/{alice.user_id}", body={"display_name": "Alice"}, headers=alice.auth).ok
    correlation_id = f"e2e-{uuid.uuid4().hex}"

    # WHEN anyone reads her profile with a correlation id of their own
    response = api.get("profile", f"/profiles/{alice.user_id}", headers={HEADER: correlation_id})

    # THEN the answer carries it, and both services' logs have the read under it
    assert response.status_code == 200 and response.json()["location_status"] == "ok"
    assert response.headers[HEADER] == correlation_id
    profile = _eventually(lambda: _lines_of(stack.logs_dir / "profile.log", correlation_id))
    location = _eventually(lambda: _lines_of(stack.logs_dir / "location.log", correlation_id))
    assert [(line["message"], line["route"], line["status"]) for line in profile if "route" in line] == [
        ("request", "/profiles/{user_id}", 200)
    ]
    assert [(line["message"], line["route"], line["status"]) for line in location if "route" in line] == [
        ("request", "/locations/{user_id}", 200)
    ]


def test_make_run_shows_the_correlation_id_in_front_of_each_line_of_a_request(api: Api, stack: LocalStack) -> None:
    shown: list[str] = []
    lock = threading.Lock()

    def echo(line: str) -> None:
        with lock:
            shown.append(line)

    correlation_id = f"e2e-{uuid.uuid4().hex}"
    stack.echo_logs(echo)  # what `make run` prints, collected instead
    try:
        for service in SERVICES:
            assert api.get(service, "/health", headers={HEADER: correlation_id}).status_code == 200

        def ours() -> list[str]:
            with lock:
                return [line for line in shown if f"| {correlation_id} | " in line]

        lines = _eventually(lambda: len(ours()) >= len(SERVICES) and ours())
    finally:
        stack.echo_logs(None)

    assert sorted(line.split("|")[0].strip() for line in lines) == sorted(SERVICES)
    for line in lines:
        assert json.loads(line.split(" | ", 2)[2])["correlation_id"] == correlation_id

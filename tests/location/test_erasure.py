"""The location service's consumer of UserErased: idempotent, never undone by a write, poison to dead letters."""

from __future__ import annotations

import time
from typing import Any

import pytest

from servicekit import events
from tests.location.conftest import ALICE, SAN_FRANCISCO, delete, get, put, stored
from tests.support.output import counted, data_points, log_lines

SERVICE = "location"


def user_erased(user_id: str = ALICE) -> str:
    return events.encode(
        events.UserErased(user_id=user_id, erasure_id="e1", correlation_id="erasure-1", requested_at=time.time())
    )


def test_an_event_delivered_twice_erases_once_and_leaves_the_same_result(
    location: Any, alice: dict[str, str], plumbing: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a location, and its owner's erasure delivered twice
    stored(location, ALICE, alice)
    source = plumbing.source(SERVICE, location)
    plumbing.send(SERVICE, user_erased())
    plumbing.send(SERVICE, user_erased())
    # WHEN both are consumed
    assert source.deliver() == 1
    assert source.deliver() == 1
    # THEN the location is gone, both messages are done with, and one erasure was completed
    assert get(location, ALICE, alice).status_code == 404
    assert plumbing.bodies(SERVICE) == [] and plumbing.bodies(SERVICE, dead=True) == []
    output = capsys.readouterr().out
    assert len(counted(output, "ErasuresCompleted")) == 1
    (latency,) = [point for point in data_points(output) if point.name == "ErasureLatency"]
    assert latency.unit == "Milliseconds" and latency.value >= 0
    erased = [line for line in log_lines(output) if line.get("message") == "erased the user"]
    assert [line["correlation_id"] for line in erased] == ["erasure-1"]


def test_a_write_after_the_event_is_refused_and_brings_nothing_back(
    location: Any, alice: dict[str, str], plumbing: Any
) -> None:
    plumbing.send(SERVICE, user_erased())
    plumbing.source(SERVICE, location).deliver()
    # WHEN the erased user's still-valid token writes
    response = put(location, ALICE, SAN_FRANCISCO, alice)
    # THEN 403, and nothing is there
    assert response.status_code == 403, response.body
    assert get(location, ALICE, alice).status_code == 404
    assert delete(location, ALICE, alice).status_code == 404


def test_a_write_that_landed_before_the_event_is_erased_with_the_rest(
    location: Any, alice: dict[str, str], plumbing: Any
) -> None:
    plumbing.send(SERVICE, user_erased())
    stored(location, ALICE, alice)  # the event is on its way; the write lands first
    plumbing.source(SERVICE, location).deliver()
    assert get(location, ALICE, alice).status_code == 404


def test_a_poison_message_ends_in_the_dead_letter_queue_and_is_counted_once(
    location: Any, plumbing: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    plumbing.send(SERVICE, '{"type": "UserErased", "user_id": 1}')
    source = plumbing.source(SERVICE, location)
    # WHEN each receive fails (the queue's visibility timeout is 0 here: every receive is a retry)
    for _ in range(events.MAX_RECEIVES):
        assert source.deliver() == 1
    # THEN SQS moved it to the dead-letter queue, and the last failure was counted
    assert source.deliver() == 0
    assert len(plumbing.bodies(SERVICE, dead=True)) == 1
    assert len(counted(capsys.readouterr().out, "ErasuresDeadLettered")) == 1

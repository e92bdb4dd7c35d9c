"""Concurrent PUTs by the owner: every write lands and counts exactly once in ``version``."""

from __future__ import annotations

from typing import Any

from tests.location.conftest import ALICE, get, put, stored
from tests.support.services import json_body
from tests.support.threads import at_once, interleaved

WRITERS = 20


def test_concurrent_puts_each_add_exactly_one_to_the_version(location: Any, alice: dict[str, str]) -> None:
    # GIVEN a location (this first request also builds the settings and the store,
    # before chalice.test.Client starts swapping os.environ from several threads)
    start = stored(location, ALICE, alice)["version"]

    def write(n: int) -> tuple[int, int]:
        response = put(location, ALICE, {"latitude": n, "longitude": n, "city": f"City {n}"}, alice)
        return response.status_code, json_body(response).get("version", -1)

    # WHEN 20 writers PUT at the same time
    with interleaved():
        results = at_once(WRITERS, write)

    # THEN all succeed, each saw its own version, and none was lost
    assert [status for status, _ in results] == [200] * WRITERS
    assert sorted(version for _, version in results) == list(range(start + 1, start + WRITERS + 1))
    final = json_body(get(location, ALICE, alice))
    assert final["version"] == start + WRITERS
    # The stored fields are those of one whole write, never a mix of two.
    assert final["latitude"] == final["longitude"]
    assert final["city"] == f"City {int(final['latitude'])}"

"""The API function's early start: during Lambda's Init it fetches the token and wakes the location service."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from tests.profile.conftest import cold_start
from tests.profile.upstream import FakeUpstream
from tests.support import services


def test_nothing_starts_early_outside_lambdas_api_function(profile: Any, upstream: FakeUpstream) -> None:
    # GIVEN a process that is no Lambda API function (locally, in tests, or the authorizer)
    early = services.load("profile").module("early")

    # WHEN app.py's early start runs
    early.start()

    # THEN nothing was called
    assert upstream.token_calls == 0
    assert upstream.location_calls == 0


def test_the_api_functions_init_fetches_the_token_and_wakes_both_location_functions(
    profile: Any, upstream: FakeUpstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the API function's Init, its stage's variables present as Lambda sets them
    service = services.load("profile")
    for name, value in services.under_the_environment(service.stage_env()).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("_HANDLER", "app.app")
    cold_start()
    locations = service.module("locations")
    answered = threading.Event()
    monkeypatch.setattr(locations, "wake_up", _Recording(locations.wake_up, answered))
    monkeypatch.setattr(service.module("early"), "wake_up", locations.wake_up)

    # WHEN app.py's early start runs
    service.module("early").start()

    # THEN the token is fetched and both location functions are called, without a location read
    assert answered.wait(10)
    deadline = time.monotonic() + 10
    while upstream.token_calls == 0 and time.monotonic() < deadline:  # the fetch runs beside the wake-up
        time.sleep(0.01)
    assert upstream.token_calls == 1
    assert upstream.authorizations == ["Bearer wake-up"]  # the authorizer, with a bearer that is no token
    assert ("/health", None) in [(path, None) for path, _ in upstream.correlation_ids]
    cold_start()


def test_a_read_waits_for_a_wake_up_under_way_and_never_for_none() -> None:
    locations = services.load("profile").module("locations")
    idle, waking = locations.WakeUp(), locations.WakeUp()
    waking.begin()
    threading.Timer(0.05, waking.end).start()

    idle.wait(5)  # returns at once: nothing was woken
    waking.wait(5)  # returns when the wake-up ends, long before 5 s

    assert waking._answered.is_set()


class _Recording:
    """A ``WakeUp`` that also tells the test when it ended."""

    def __init__(self, inner: Any, ended: threading.Event) -> None:
        self._inner = inner
        self._ended = ended

    def begin(self) -> None:
        self._inner.begin()

    def end(self) -> None:
        self._inner.end()
        self._ended.set()

    def wait(self, timeout: float) -> None:
        self._inner.wait(timeout)

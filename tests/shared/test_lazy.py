"""Lazy accessors: built once on first use; with a max age, built again once old, the old value kept on failure."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from servicekit.lazy import Lazy
from tests.support.clocks import ManualClock


class Source:
    """What an accessor builds from: a value an operator may change, or a failure."""

    def __init__(self) -> None:
        self.value = "first"
        self.fails = False
        self.reads = 0

    def __call__(self) -> str:
        self.reads += 1
        if self.fails:
            raise ConnectionError("SSM is down")
        return self.value


def test_a_value_is_built_once_without_a_max_age() -> None:
    source, clock = Source(), ManualClock()
    thing = Lazy(source, clock=clock.monotonic)

    thing()
    clock.advance(10**6)
    source.value = "second"

    assert thing() == "first"
    assert source.reads == 1


def test_a_change_made_outside_the_process_is_seen_once_the_value_is_older_than_its_max_age() -> None:
    source, clock = Source(), ManualClock()
    thing = Lazy(source, max_age_s=60, clock=clock.monotonic)
    assert thing() == "first"
    source.value = "second"

    clock.advance(59)
    assert thing() == "first"
    clock.advance(1)
    assert thing() == "second"
    assert source.reads == 2


def test_a_failed_rebuild_keeps_the_old_value_until_the_next_max_age() -> None:
    source, clock = Source(), ManualClock()
    thing = Lazy(source, max_age_s=60, clock=clock.monotonic)
    thing()
    source.fails = True
    clock.advance(60)

    assert thing() == "first"
    assert thing() == "first"
    assert source.reads == 2  # one failed try, then none until the value is old again
    source.fails, source.value = False, "second"
    clock.advance(60)
    assert thing() == "second"


def test_a_first_build_that_fails_raises() -> None:
    source = Source()
    source.fails = True

    with pytest.raises(ConnectionError):
        Lazy(source, max_age_s=60)()


def test_an_overridden_value_is_never_rebuilt_by_age() -> None:
    source, clock = Source(), ManualClock()
    thing = Lazy(source, max_age_s=60, clock=clock.monotonic)
    thing.override("test value")
    clock.advance(10**6)

    assert thing() == "test value"
    assert source.reads == 0


def test_a_value_provided_before_the_first_use_spares_the_build() -> None:
    source = Source()
    thing = Lazy(source)

    thing.provide("at hand")

    assert thing() == "at hand"
    assert source.reads == 0


def test_a_value_provided_once_one_is_built_changes_nothing() -> None:
    source = Source()
    thing = Lazy(source)
    thing()

    thing.provide("at hand")

    assert thing() == "first"


# In a fresh interpreter: every Powertools module is imported while a thread holds the lock.
_IMPORTS_UNDER_THE_LOCK = """
import sys, threading
from servicekit.lazy import FIRST_USE_IMPORTS

def held() -> bool:
    free = []

    def try_it() -> None:
        free.append(FIRST_USE_IMPORTS.acquire(blocking=False))
        if free[0]:
            FIRST_USE_IMPORTS.release()

    probe = threading.Thread(target=try_it)
    probe.start()
    probe.join()
    return not free[0]

class Watch:
    def find_spec(self, name, path=None, target=None):
        if name.startswith("aws_lambda_powertools"):
            print(name, held())
        return None

sys.meta_path.insert(0, Watch())
from servicekit import metrics, observability
{use}
"""


@pytest.mark.parametrize(
    "use", ["metrics.count(metrics.COLD_STARTS)", "observability.logger()"], ids=["metrics", "logger"]
)
def test_powertools_is_imported_under_the_first_use_lock_by_the_metrics_and_the_logger_alike(use: str) -> None:
    # Two threads importing one package at once may get it half-initialised: the profile
    # service's early start counts its token fetch as the first request makes its logger.
    shared = Path(__file__).resolve().parents[2] / "shared"
    env = {**os.environ, "PYTHONPATH": str(shared), "POWERTOOLS_METRICS_NAMESPACE": "Test"}
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS_UNDER_THE_LOCK.format(use=use)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    imports = [line.split() for line in done.stdout.splitlines() if line.startswith("aws_lambda_powertools")]

    assert imports, done.stdout + done.stderr
    assert [name for name, held in imports if held != "True"] == []

"""Running one action on several threads at the same instant, as concurrent requests arrive."""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

# CPython hands the GIL to another thread every 5 ms by default.
INTERLEAVED_SWITCH_S = 1e-5


def at_once[T](count: int, action: Callable[[int], T]) -> list[T]:
    """``action(0)`` to ``action(count - 1)``, each on its own thread, all released together."""
    gate = threading.Barrier(count)

    def run(index: int) -> T:
        gate.wait(timeout=10)
        return action(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


@contextlib.contextmanager
def interleaved() -> Iterator[None]:
    """Threads switch every 10 µs instead of every 5 ms while this lasts.

    A request is then interrupted mid-way far more often, as on a machine busy with
    other work: a race between requests shows on almost every run, not once in a while.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(INTERLEAVED_SWITCH_S)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)

"""A clock for tests that is about time: it stands still until the test moves it.

A busy machine slows the code down but cannot move this clock, so a test that reads
deadlines, budgets or dates from it gets the same answer however loaded the machine is.
The services read it through ``servicekit.clock.clock``; a test overrides that accessor.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from servicekit.clock import Clock

# An arbitrary instant the tests can name: 27 November 2026, 05:00 UTC.
DEFAULT_START = datetime(2026, 11, 27, 5, 0, tzinfo=UTC)


class ManualClock(Clock):
    """Wall and monotonic time that move only by ``advance`` (from any thread)."""

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        self._lock = threading.Lock()
        self._timestamp = start.timestamp()
        self._monotonic = 1000.0  # any value: only differences of it mean something

    def timestamp(self) -> float:
        with self._lock:
            return self._timestamp

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass, at once."""
        with self._lock:
            self._timestamp += seconds
            self._monotonic += seconds

"""The time, behind an accessor so tests can move it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from .lazy import Lazy


class Clock:
    """Wall-clock time (whole seconds, ISO 8601 in UTC) and a monotonic clock for deadlines."""

    def timestamp(self) -> float:
        """Seconds since the epoch, with their fraction: the one source of ``now`` and ``iso``."""
        return time.time()

    def now(self) -> int:
        """Seconds since the epoch."""
        return int(self.timestamp())

    def iso(self) -> str:
        """The current time in UTC, ISO 8601 with milliseconds (``2026-11-27T05:00:00.000Z``)."""
        moment = datetime.fromtimestamp(self.timestamp(), UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for deadlines and budgets (not a date)."""
        return time.monotonic()


clock = Lazy(Clock)

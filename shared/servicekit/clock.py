"""The time, behind an accessor so tests can move it."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from .lazy import Lazy


class Clock:
    """Wall-clock time in whole seconds and as ISO 8601."""

    def now(self) -> int:
        """Seconds since the epoch."""
        return int(time.time())

    def iso(self) -> str:
        """The current time in UTC, ISO 8601 with milliseconds (``2026-11-27T05:00:00.000Z``)."""
        return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


clock = Lazy(Clock)

"""Values built on first use and then reused for the life of the process, or for a while."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

# Held while a library is imported on first use by more than one module (Powertools: by
# the logger and by the metrics). CPython lets two threads import one package at once,
# and when their imports cross, it hands one of them the module half-initialised
# ("cannot import name 'Metrics' from partially initialized module"). The profile
# service's early start counts its token fetch on a thread of its own, as the first
# request's logger is being made: without this lock, that first request was sometimes a 500.
FIRST_USE_IMPORTS = threading.RLock()


class Lazy[T]:
    """An accessor: ``thing()`` builds the value once, on first use, and returns it after.

    Nothing expensive (boto3 clients, secrets, HTTP pools) is built at import time,
    because importing ``app.py`` is the whole cold start of a Lambda function and of
    its authorizer. Tests replace a value with ``override`` and drop every cached
    value with ``Lazy.reset_all()``.

    With ``max_age_s``, a value older than that is built again on the next call, so that
    a change made outside the process (a secret an operator rewrote) reaches every warm
    process within that time, with no redeploy. Should building it again fail, the old
    value stays in use (logged) until the next ``max_age_s`` has passed.
    """

    _instances: list[Lazy[object]] = []

    def __init__(
        self, factory: Callable[[], T], *, max_age_s: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._factory = factory
        self._max_age_s = max_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._value: T | None = None
        self._built = False
        self._built_at = 0.0
        Lazy._instances.append(self)  # type: ignore[arg-type]

    def __call__(self) -> T:
        if not self._built or self._is_stale():
            with self._lock:
                if not self._built:
                    self._value = self._factory()
                    self._built, self._built_at = True, self._clock()
                elif self._is_stale():
                    self._rebuild()
        return self._value  # type: ignore[return-value]

    def _is_stale(self) -> bool:
        return self._max_age_s is not None and self._clock() - self._built_at >= self._max_age_s

    def _rebuild(self) -> None:
        try:
            self._value = self._factory()
        except Exception:  # the value in hand is still good: keep it, try again later
            logger.warning("could not build %s again; keeping the one built earlier", self._factory, exc_info=True)
        self._built_at = self._clock()

    def provide(self, value: T) -> None:
        """Use ``value`` if none is built yet: a caller that has it at hand spares the factory its work."""
        with self._lock:
            if not self._built:
                self._value, self._built, self._built_at = value, True, self._clock()

    def override(self, value: T) -> None:
        """Use ``value`` from now on instead of building one (never rebuilt by age)."""
        with self._lock:
            self._value, self._built, self._built_at = value, True, float("inf")

    def reset(self) -> None:
        """Forget the value: the next call builds a new one."""
        with self._lock:
            self._value, self._built = None, False

    @classmethod
    def reset_all(cls) -> None:
        """Forget every cached value of every accessor (for tests)."""
        for instance in cls._instances:
            instance.reset()

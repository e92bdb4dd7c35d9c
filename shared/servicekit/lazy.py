"""Values built on first use and then reused for the life of the process."""

from __future__ import annotations

import threading
from collections.abc import Callable


class Lazy[T]:
    """An accessor: ``thing()`` builds the value once, on first use, and returns it after.

    Nothing expensive (boto3 clients, secrets, HTTP pools) is built at import time,
    because importing ``app.py`` is the whole cold start of a Lambda function and of
    its authorizer. Tests replace a value with ``override`` and drop every cached
    value with ``Lazy.reset_all()``.
    """

    _instances: list[Lazy[object]] = []

    def __init__(self, factory: Callable[[], T]) -> None:
        self._factory = factory
        self._lock = threading.Lock()
        self._value: T | None = None
        self._built = False
        Lazy._instances.append(self)  # type: ignore[arg-type]

    def __call__(self) -> T:
        if not self._built:
            with self._lock:
                if not self._built:
                    self._value = self._factory()
                    self._built = True
        return self._value  # type: ignore[return-value]

    def override(self, value: T) -> None:
        """Use ``value`` from now on instead of building one."""
        with self._lock:
            self._value, self._built = value, True

    def reset(self) -> None:
        """Forget the value: the next call builds a new one."""
        with self._lock:
            self._value, self._built = None, False

    @classmethod
    def reset_all(cls) -> None:
        """Forget every cached value of every accessor (for tests)."""
        for instance in cls._instances:
            instance.reset()

"""A DynamoDB client for tests whose requests take effect one at a time, as DynamoDB's do."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


class AtomicClient:
    """moto's DynamoDB client with each request made atomic.

    DynamoDB applies every request, conditional writes and transactions included,
    atomically. moto evaluates a condition and then writes in separate Python steps
    without a lock, so two threads can both pass a condition only one of them should
    (two "new window" writes of a lockout counter, for instance). Concurrency tests
    must find races in our code, not in moto's: the ``aws`` fixture gives the services
    this wrapper. Only single requests are serialized; a read followed by a write is
    still two requests, as it is in AWS.
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name.startswith("_") or not callable(attribute) or name in ("get_waiter", "get_paginator"):
            return attribute
        return self._atomic(attribute)

    def _atomic(self, operation: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            with self._lock:
                return operation(*args, **kwargs)

        return call

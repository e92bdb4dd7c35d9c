"""Every request has a time budget: no DynamoDB call starts once it is spent.

A request makes a few DynamoDB calls in sequence, each bounded by the client's
timeouts, attempts and backoff (``servicekit.dynamo``). The budget bounds how many
can start, so a request's worst case is the budget plus one call, whatever the
route does: below the Lambda function's timeout, which is below API Gateway's 29 s
(``tests/deploy/test_time_bounds.py`` computes it). A request over its budget ends as a
503 the client may retry, not as a function killed mid-write.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from chalice import Chalice, Response
from chalice.app import Request

REQUEST_BUDGET_S = 5.0

_current = threading.local()


def start(budget_s: float = REQUEST_BUDGET_S, clock: Callable[[], float] = time.monotonic) -> None:
    """Open this thread's request budget."""
    _current.ends_at, _current.clock = clock() + budget_s, clock


def clear() -> None:
    """Close this thread's request budget (work outside a request has none)."""
    _current.ends_at = None


def spent() -> bool:
    """Whether this thread's request has used up its budget."""
    ends_at = getattr(_current, "ends_at", None)
    return ends_at is not None and _current.clock() >= ends_at


def limit_request_time(app: Chalice) -> None:
    """Give every request of ``app`` the budget of ``REQUEST_BUDGET_S``."""

    @app.middleware("http")
    def budget(request: Request, get_response: Callable[[Request], Response]) -> Response:
        start()
        try:
            return get_response(request)
        finally:
            clear()
